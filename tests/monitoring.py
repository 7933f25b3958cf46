"""Helpers for the health and metrics tests: a private Redis the test may stop, a worker process of its own,
and polling with a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

MONITORING_TOKEN = "test-monitoring-token-0123456789abcdef"


@pytest.fixture
def private_redis(settings, tmp_path):
    """A Redis of this test's own, in place of the run's (REDIS_URL): the test may stop, freeze or restart it."""
    from config.embedded import EmbeddedRedis, free_port

    server = EmbeddedRedis(data_dir=tmp_path / "redis", port=free_port())
    server.start()
    settings.REDIS_URL = server.url
    try:
        yield server
    finally:
        if server.process is not None:
            try:
                os.kill(server.process.pid, signal.SIGCONT)  # a frozen one must be able to stop
            except ProcessLookupError:
                pass
            server.stop()


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
