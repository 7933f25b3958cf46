"""LFR_ENV accepts only the known environments: anything else stops every entry point with a clear error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "LFR_ENV must be one of development, production (lower case), not"


def _run(*args: str, lfr_env: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LFR_ENV"}
    if lfr_env is not None:
        env["LFR_ENV"] = lfr_env
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("value", ["Production", "PRODUCTION", "prod", " production", "staging"])
@pytest.mark.parametrize("command", [
    ["manage.py", "check"],
    ["manage.py", "seed_demo"],  # would have created the demo accounts in a mistyped production
    ["manage.py", "mfa_code", "det_smith"],
    ["-c", "import django; django.setup()"],
], ids=["check", "seed_demo", "mfa_code", "django-setup"])
def test_an_unknown_environment_is_refused_before_anything_runs(command, value):
    result = _run(*command, lfr_env=value)
    assert result.returncode != 0
    assert f"{MESSAGE} {value!r}" in result.stderr, result.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("value", [None, "", "development"])
def test_development_is_the_default(value):
    result = _run("-c", "import django; django.setup(); from django.conf import settings; "
                  "print(settings.LFR_ENV, settings.PRODUCTION)", lfr_env=value)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["development", "False"]
