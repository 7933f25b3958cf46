"""pytest plugin: real PostgreSQL (+pgvector) and Redis for the whole test run.

Loaded with `-p config.pytest_services` (pyproject addopts) so it runs before pytest-django reads
settings. With DATABASE_URL / REDIS_URL set it uses those servers; otherwise it starts the
embedded ones once, on free ports, with data under var/test/, and stops them at the end.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from pathlib import Path

import pytest

from config.embedded import RUNTIME_ROLE, EmbeddedPostgres, EmbeddedRedis, free_port

_started: list = []
_slot_lock = None


def _claim_slot(base: Path) -> Path:
    """Each concurrent test run on this checkout gets its own data folders (kept for reuse)."""
    global _slot_lock
    base.mkdir(parents=True, exist_ok=True)
    for slot in range(16):
        handle = open(base / f".slot-{slot}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _slot_lock = handle
        folder = base if slot == 0 else base / f"slot-{slot}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    raise RuntimeError(f"16 test runs already use {base}")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller started them and passed the URLs in the environment
    var_dir = _claim_slot(Path(os.environ.get("LFR_VAR_DIR", Path(__file__).resolve().parent.parent / "var")) / "test")
    # Face images written by tests (and by worker processes they start) go here, emptied per run.
    protected = var_dir / "protected"
    shutil.rmtree(protected, ignore_errors=True)
    os.environ.setdefault("PROTECTED_MEDIA_ROOT", str(protected))
    spool = var_dir / "alert-spool"  # matches spooled by the workers the tests start (and in-process ones)
    shutil.rmtree(spool, ignore_errors=True)
    os.environ.setdefault("ALERT_SPOOL_DIR", str(spool))
    if not os.environ.get("DATABASE_URL"):
        postgres = EmbeddedPostgres(data_dir=var_dir / "pgdata", port=free_port(), log_file=var_dir / "postgres.log")
        postgres.start()
        _started.append(postgres)
        # The test process is the superuser: it creates the test databases and its flush turns triggers off.
        # Migrations grant the runtime role its privileges in each test database, and the servers and
        # workers the tests start connect as that role (tests/conftest.py, subprocess_database_url).
        os.environ["DATABASE_URL"] = postgres.superuser_url
        os.environ["DATABASE_RUNTIME_ROLE"] = RUNTIME_ROLE
        os.environ["LFR_TEST_RUNTIME_DATABASE_URL"] = postgres.url
    if not os.environ.get("REDIS_URL"):
        redis = EmbeddedRedis(data_dir=var_dir / "redis", port=free_port(), log_file=var_dir / "redis.log")
        redis.start()
        _started.append(redis)
        os.environ["REDIS_URL"] = redis.url


def _without_password(url: str | None) -> str | None:
    return None if url is None else re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def pytest_report_header(config) -> list[str]:
    return [f"services: DATABASE_URL={_without_password(os.environ.get('DATABASE_URL'))} "
            f"REDIS_URL={_without_password(os.environ.get('REDIS_URL'))} "
            f"({'embedded, started for this run' if _started else 'external'})"]


def pytest_unconfigure(config) -> None:
    while _started:
        _started.pop().stop()
