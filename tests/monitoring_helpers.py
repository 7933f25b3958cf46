"""Helpers for the health and metrics tests: the monitoring token (a fixture), a worker process of its own, and
polling with a deadline. Their private Redis is ``private_redis`` in tests/worker_processes.py. The fixtures here
are registered for every test by ``pytest_plugins`` in tests/conftest.py: import the helpers, never the fixtures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

MONITORING_TOKEN = "test-monitoring-token-0123456789abcdef"


@pytest.fixture
def monitoring_token(settings) -> dict[str, str]:
    settings.MONITORING_TOKEN = MONITORING_TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {MONITORING_TOKEN}"}


def wait_for(condition, *, timeout: float, every: float = 0.25):
    """Poll until condition() is truthy; return its last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)


def start_worker(name: str, *, queues: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A real Celery worker process (prefork, one slot) in its own session, using the test database."""
    from tests.conftest import subprocess_database_url

    environment = dict(os.environ, DATABASE_URL=subprocess_database_url(), PYTHONUNBUFFERED="1", **(env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-l", "WARNING",
         "--concurrency", "1", "-n", f"{name}@%h", "--without-gossip", "--without-mingle"],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)
