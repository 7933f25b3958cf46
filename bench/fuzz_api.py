"""Fuzz the REST API from its own OpenAPI schema with schemathesis, once per role, against a real server.

    python -m bench.fuzz_api [--max-examples 30] [--roles detective,officer] [--seed 1]

A scratch PostgreSQL + Redis (bench.services.django_on_fresh_services), the demo data (seed_demo: users
of every role, a watchlist with an enrolled subject, a camera, a live deployment), uvicorn serving
config.asgi, then `schemathesis run` with each role's API token. The check is `not_a_server_error`: whatever the
input, the API answers with a 2xx/4xx, never a 5xx. Figures go to bench/results/fuzz_api.json; the exit
status is non-zero when any role's run found a failure. `make fuzz` runs this.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROLES = ("detective", "commander", "officer", "oversight", "admin")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30, help="test cases per API operation and role")
    parser.add_argument("--roles", default=",".join(DEFAULT_ROLES), help="demo usernames to fuzz as")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "fuzz")
    arguments = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.services import django_on_fresh_services
    from config.embedded import free_port

    with django_on_fresh_services(arguments.var, CAMERA_FILE_ROOT=str(arguments.var / "videos")):
        server = None
        try:
            tokens = _prepare(roles=arguments.roles.split(","))
            config = _write_config(var=arguments.var, ids=_demo_object_ids())
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                 "--log-level", "warning"],
                cwd=ROOT, env=os.environ.copy(), stdout=open(arguments.var / "web.log", "w"), stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            schema_file = arguments.var / "schema.json"
            schema_file.write_bytes(_wait_and_get(f"{base}/api/schema/?format=json", token=next(iter(tokens.values())),
                                                  server=server))
            results = {role: _fuzz(schema_file=schema_file, config=config, base=base, token=token, role=role,
                                   var=arguments.var, max_examples=arguments.max_examples, seed=arguments.seed)
                       for role, token in tokens.items()}
        finally:
            if server is not None:  # before the services it talks to
                server.terminate()
                server.wait(timeout=20)

    server_errors = _server_errors_in_log(arguments.var / "web.log")
    summary = {"max_examples": arguments.max_examples, "seed": arguments.seed, "roles": results,
               "test_cases": sum(r["test_cases"] for r in results.values()),
               "failures": sum(r["failures"] for r in results.values()),
               "server_errors_logged": server_errors}
    out = ROOT / "bench" / "results" / "fuzz_api.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if summary["failures"] == 0 and all(r["exit_code"] == 0 for r in results.values()) else 1


def _prepare(*, roles: list[str]) -> dict[str, str]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    call_command("migrate", verbosity=0)
    call_command("seed_demo")
    users = get_user_model().objects.filter(username__in=roles)
    missing = set(roles) - {user.username for user in users}
    if missing:
        raise SystemExit(f"no demo user named {', '.join(sorted(missing))}")
    return {user.username: Token.objects.get_or_create(user=user)[0].key for user in users}


def _demo_object_ids() -> dict[str, int]:
    """Path ids of the demo's objects, so fuzzed bodies reach the handlers rather than a 404."""
    from alerts.models import Alert
    from deployments.models import Camera, Deployment
    from watchlists.models import ReferenceImage, Subject, Watchlist

    firsts = {"deployments": Deployment, "watchlists": Watchlist, "subjects": Subject,
              "reference-images": ReferenceImage, "cameras": Camera, "alerts": Alert}  # alerts: once a worker raised one
    ids = {prefix: model.objects.order_by("pk").values_list("pk", flat=True).first() for prefix, model in firsts.items()}
    return {prefix: pk for prefix, pk in ids.items() if pk is not None}


def _write_config(*, var: Path, ids: dict[str, int]) -> Path:
    """Operations on a resource use the id of the demo object of that kind."""
    blocks = []
    for prefix, pk in ids.items():
        parameters = f'"path.id" = {pk}'
        if prefix == "watchlists" and "subjects" in ids:
            parameters += f', "path.subject_id" = {ids["subjects"]}'
        blocks.append(f'[[operations]]\ninclude-path-regex = "^/api/{prefix}/"\nparameters = {{ {parameters} }}\n')
    config = var / "schemathesis.toml"
    config.write_text("\n".join(blocks))
    return config


def _wait_and_get(url: str, *, token: str, server: subprocess.Popen, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise SystemExit(f"the web server exited with status {server.returncode}; see its log in the var folder")
        try:
            request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
            return urllib.request.urlopen(request, timeout=5).read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _fuzz(*, schema_file: Path, config: Path, base: str, token: str, role: str, var: Path, max_examples: int, seed: int) -> dict:
    report = var / f"junit-{role}.xml"
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run",
               str(schema_file), "--url", base,
               "--header", f"Authorization: Token {token}", "--checks", "not_a_server_error",
               "--max-examples", str(max_examples), "--seed", str(seed), "--workers", "1",
               "--generation-database", "none", "--no-color", "--report", "junit",
               "--report-junit-path", str(report), "--suppress-health-check", "all"]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=var, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    output = completed.stdout + completed.stderr
    (var / f"schemathesis-{role}.log").write_text(output)
    print(f"--- {role}: exit {completed.returncode} in {elapsed:.0f} s")
    print("\n".join(output.strip().splitlines()[-12:]))
    return {"exit_code": completed.returncode, "seconds": round(elapsed, 1), **_junit_counts(report),
            "test_cases": _test_cases(output)}


def _junit_counts(report: Path) -> dict:
    import xml.etree.ElementTree as ElementTree

    if not report.exists():
        return {"operations": 0, "failures": 1, "errors": 0}
    suites = ElementTree.parse(report).getroot()
    suite = suites if suites.tag == "testsuite" else suites.find("testsuite")
    return {"operations": int(suite.get("tests", 0)), "failures": int(suite.get("failures", 0)),
            "errors": int(suite.get("errors", 0))}


def _test_cases(output: str) -> int:
    match = re.search(r"(\d+)\s+test cases? generated", output) or re.search(r"(\d+)\s+generated", output)
    return int(match.group(1)) if match else 0


def _server_errors_in_log(log: Path) -> int:
    """Django logs every 500 as "Internal Server Error" (other logged tracebacks, such as too many fields
    sent, are 400 answers)."""
    return sum(1 for line in log.read_text(errors="replace").splitlines() if "Internal Server Error" in line)


if __name__ == "__main__":
    raise SystemExit(main())
