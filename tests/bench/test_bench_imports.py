"""Every project name a bench script imports exists. The scripts import most of the project inside functions (after
their own Django set-up), so a module moved or renamed in the apps would otherwise fail only when a bench runs."""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
PROJECT = {"accounts", "alerts", "audit", "bench", "config", "core", "deployments", "monitoring", "oversight",
           "recognition", "reports", "watchlists"}


def _project_imports() -> list[tuple[str, int, str, str | None]]:
    found = []
    for script in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), filename=str(script))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] in PROJECT:
                found += [(script.name, node.lineno, node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(script.name, node.lineno, alias.name, None) for alias in node.names
                          if alias.name.split(".")[0] in PROJECT]
    return found


@pytest.mark.parametrize("script, line, module, name", _project_imports(),
                         ids=lambda value: str(value) if not isinstance(value, str) or "/" not in value else value)
def test_the_name_a_bench_script_imports_exists(script, line, module, name):
    imported = importlib.import_module(module)
    if name is not None and name != "*":
        assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None, (
            f"bench/{script}:{line} imports {name} from {module}, which has no such name")
