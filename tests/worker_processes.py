"""Real Celery worker and beat processes, started with the commands `lfr up` uses, against the test database and
a private Redis that a test may stop and start again (the run's own Redis is shared by every test)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from config.embedded import EmbeddedRedis, free_port
from recognition.leases import lease_key
from tests.conftest import subprocess_database_url


@pytest.fixture
def private_redis(settings, tmp_path):
    """A Redis of this test's own, in place of the run's (settings.REDIS_URL): an embedded Redis on a free port, data
    and password under tmp_path, that the test may stop, freeze (SIGSTOP) or restart: `.stop()` and `.start()`
    restart it on the same port with the same data (saved at shutdown)."""
    server = EmbeddedRedis(data_dir=tmp_path / "redis", port=free_port(), var_dir=tmp_path,
                           log_file=tmp_path / "redis.log")
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


class ServiceProcess:
    """A child process in its own session, its output in a log file (a pipe nobody reads would block it)."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_file = log_dir / f"{name}.log"
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM to the whole group, as `lfr up` does (camera loops release their leases), then SIGKILL."""
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                os.killpg(self.process.pid, signal.SIGKILL)  # pool processes left behind
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                pass
            return


def start_process(name: str, command: list[str], *, redis_url: str, log_dir: Path,
                  **extra_env: str) -> ServiceProcess:
    """Call with database access unblocked (the test database's URL is read from the connection)."""
    env = dict(os.environ, DATABASE_URL=subprocess_database_url(), REDIS_URL=redis_url, PYTHONUNBUFFERED="1",
               INFERENCE_THREADS="1", CAMERA_WORKER_CAPACITY="1", **extra_env)
    return ServiceProcess(name, command, env=env, log_dir=log_dir)


def broker(redis_url: str) -> Celery:
    """A Celery client of that Redis (the test process's own app talks to the run's Redis)."""
    from django.conf import settings

    app = Celery("lfr-test-client", broker=redis_url, set_as_current=False)
    app.conf.update(broker_connection_retry_on_startup=True, task_default_queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                    task_routes=settings.CELERY_TASK_ROUTES)
    return app


def lease_holder(redis_url: str, *, deployment_id: int, camera_id: int) -> str | None:
    try:
        value = redis.Redis.from_url(redis_url, socket_timeout=2).get(
            lease_key(deployment_id=deployment_id, camera_id=camera_id))
    except redis.ConnectionError:
        return None
    return value.decode() if value else None


def wait_until(condition, *, timeout: float, what: str, processes: list[ServiceProcess] = (), interval: float = 0.25):
    """Poll `condition` until it is truthy (its value is returned) or the deadline passes (AssertionError naming
    `what`, with the processes' logs)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            logs = "\n".join(f"--- {p.name} (alive: {p.alive()}) ---\n{p.log()[-6000:]}" for p in processes)
            raise AssertionError(f"{what}: not within {timeout:.0f} s\n{logs}")
        time.sleep(interval)
