"""`manage.py lfr up`: the whole system as child processes of one terminal.

Starts the embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL point elsewhere),
migrates, then runs the ASGI server, a Celery worker and Celery beat, with every child's output
prefixed and interleaved. Ctrl-C or SIGTERM stops the children in reverse order, then the servers.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from config.embedded import (
    RUNTIME_ROLE,
    EmbeddedPostgres,
    EmbeddedRedis,
    ServiceError,
    credentials_dir,
    die_with_parent,
    require_free_port,
    secret,
)

COLOURS = ["36", "33", "35", "32", "34", "31", "96", "93"]


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 20.0
    signal_group: bool = False  # send the stop signal to the child's whole process group


class Supervisor:
    """Runs children in their own sessions, pumps their output with a prefix, stops them in order."""

    def __init__(self, *, out=None) -> None:
        self.out = out or sys.stdout
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._colour = self.out.isatty() if hasattr(self.out, "isatty") else False

    def say(self, name: str, line: str) -> None:
        index = sum(map(ord, name)) % len(COLOURS)
        prefix = f"{name:<9}|"
        if self._colour:
            prefix = f"\033[{COLOURS[index]}m{prefix}\033[0m"
        with self._write_lock:
            self.out.write(f"{prefix} {line.rstrip()}\n")
            self.out.flush()

    def adopt(self, name: str, process: subprocess.Popen, **kwargs) -> Child:
        child = Child(name, process, **kwargs)
        self.children.append(child)
        if process.stdout is not None:
            threading.Thread(target=self._pump, args=(child,), daemon=True).start()
        return child

    def spawn(self, name: str, command: list[str], *, env: dict[str, str], **kwargs) -> Child:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=die_with_parent,
        )
        return self.adopt(name, process, **kwargs)

    def run_to_end(self, name: str, command: list[str], *, env: dict[str, str]) -> int:
        child = self.spawn(name, command, env=env)
        code = child.process.wait()
        self.children.remove(child)
        return code

    def _pump(self, child: Child) -> None:
        assert child.process.stdout is not None
        for raw in iter(child.process.stdout.readline, b""):
            self.say(child.name, raw.decode("utf-8", "replace"))

    def wait(self) -> int:
        """Block until a signal asks us to stop (0) or a child dies on its own (1)."""
        while not self.stopping.is_set():
            for child in self.children:
                if child.process.poll() is not None:
                    self.say("lfr", f"{child.name} exited unexpectedly with code {child.process.returncode}")
                    return 1
            self.stopping.wait(0.5)
        return 0

    def stop_all(self) -> None:
        for child in reversed(self.children):
            process = child.process
            if process.poll() is not None:
                continue
            self.say("lfr", f"stopping {child.name}")
            try:
                if child.signal_group:
                    os.killpg(process.pid, child.stop_signal)
                else:
                    process.send_signal(child.stop_signal)
                process.wait(child.stop_timeout)
            except subprocess.TimeoutExpired:
                self.say("lfr", f"{child.name} did not stop in {child.stop_timeout:.0f}s; killing it")
            finally:
                # Anything the child left in its session (pool processes) goes too.
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.children.clear()


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve().parent.parent / "manage.py"), *args]


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config", *args]


def start_data_services(supervisor: Supervisor, *, var_dir: Path, pg_port: int, redis_port: int,
                        embedded_postgres: bool, embedded_redis: bool, env: dict[str, str]) -> None:
    if embedded_postgres:
        postgres = EmbeddedPostgres(data_dir=var_dir / "pgdata", port=pg_port)
        supervisor.say("lfr", f"starting PostgreSQL (embedded) on 127.0.0.1:{pg_port}, data in {postgres.data_dir}")
        postgres.start(stdout=subprocess.PIPE)
        supervisor.adopt("postgres", postgres.process, stop_signal=signal.SIGINT, stop_timeout=60)
        env["DATABASE_URL"] = postgres.url
        env["DATABASE_OWNER_URL"] = postgres.owner_url
        env["DATABASE_RUNTIME_ROLE"] = RUNTIME_ROLE
    if embedded_redis:
        redis = EmbeddedRedis(data_dir=var_dir / "redis", port=redis_port)
        supervisor.say("lfr", f"starting Redis (embedded) on 127.0.0.1:{redis_port}, data in {redis.data_dir}")
        redis.start(stdout=subprocess.PIPE)
        supervisor.adopt("redis", redis.process)
        env["REDIS_URL"] = redis.url


# Only `migrate` gets the owner's credentials and only the anchor worker the anchor key.
OWNER_ONLY = ("DATABASE_OWNER_URL",)
ANCHOR_ONLY = ("AUDIT_ANCHOR_KEY_FILE",)


def anchor_environment(env: dict[str, str], *, var_dir: Path) -> None:
    """The anchor file and key for `lfr up`, unless given: both under var/ (the key 0600). On one host this
    shows the split rather than enforcing it; production keeps the key on the anchor host only (README)."""
    env.setdefault("AUDIT_ANCHOR_FILE", str(var_dir / "audit-anchors.jsonl"))
    if not env.get("AUDIT_ANCHOR_KEY_FILE"):
        secret(credentials_dir(var_dir), "audit-anchor.key")
        env["AUDIT_ANCHOR_KEY_FILE"] = str(credentials_dir(var_dir) / "audit-anchor.key")


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in names}


def _masked(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _wait_until_listening(host: str, port: int, *, process: subprocess.Popen, stop: threading.Event,
                          timeout: float = 120) -> bool:
    """True once the port accepts connections, so the URL we print already works; False if the process
    died, a stop was asked for or the time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None and not stop.is_set():
        try:
            with socket.create_connection((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port), timeout=1):
                return True
        except OSError:
            stop.wait(0.2)
    return False


def up(*, settings, web_host: str, web_port: int, worker_concurrency: int, demo: bool,
       services_only: bool = False) -> int:
    supervisor = Supervisor()

    def request_stop(signum, frame) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    try:
        if not services_only:
            require_free_port(web_port, what="the web server", env_var="LFR_WEB_PORT")
        start_data_services(
            supervisor, var_dir=settings.VAR_DIR, pg_port=settings.LFR_PG_PORT, redis_port=settings.LFR_REDIS_PORT,
            embedded_postgres=settings.EMBEDDED_POSTGRES, embedded_redis=settings.EMBEDDED_REDIS, env=env,
        )
        if not services_only:
            anchor_environment(env, var_dir=settings.VAR_DIR)
            runtime_env = without(env, *OWNER_ONLY, *ANCHOR_ONLY)
            if supervisor.run_to_end("migrate", _manage("migrate", "--noinput"), env=without(env, *ANCHOR_ONLY)) != 0:
                supervisor.say("lfr", "migrations failed; stopping")
                return 1
            if demo and supervisor.run_to_end("seed", _manage("seed_demo"), env=runtime_env) != 0:
                supervisor.say("lfr", "seeding the demo failed; stopping")
                return 1
            web = supervisor.spawn("web", [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host",
                                           web_host, "--port", str(web_port), "--lifespan", "off",
                                           # the client's address is read in one place: accounts.auth_audit.client_ip
                                           "--no-server-header", "--no-proxy-headers"], env=runtime_env)
            supervisor.spawn("worker", _celery("worker", "-Q", "default,recognition", "-l", "INFO",
                                               "--concurrency", str(worker_concurrency), "-n", "lfr@%h"),
                             env=runtime_env, stop_timeout=30, signal_group=True)
            supervisor.spawn("anchor", _celery("worker", "-Q", "audit_anchor", "-l", "INFO", "--pool", "solo",
                                               "-n", "anchor@%h", "--without-gossip", "--without-mingle"),
                             env=without(env, *OWNER_ONLY), stop_timeout=30, signal_group=True)
            supervisor.spawn("beat", _celery("beat", "-l", "INFO", "--pidfile=",
                                             "-s", str(settings.VAR_DIR / "celerybeat-schedule")), env=runtime_env)
            if not _wait_until_listening(web_host, web_port, process=web.process, stop=supervisor.stopping):
                supervisor.say("lfr", "the web server did not start; stopping")
                return 1
            supervisor.say("lfr", f"LFR Portal is up: http://{web_host}:{web_port}/  (Ctrl-C stops everything)")
        else:
            database_url = _masked(env.get("DATABASE_URL", settings.DATABASE_URL))
            redis_url = _masked(env.get("REDIS_URL", settings.REDIS_URL))
            supervisor.say("lfr", f"data services up: DATABASE_URL={database_url} REDIS_URL={redis_url}, passwords in "
                                  f"{credentials_dir(settings.VAR_DIR)}  (Ctrl-C stops them)")
        return supervisor.wait()
    except ServiceError as exc:
        supervisor.say("lfr", f"cannot start: {exc}")
        return 2
    finally:
        supervisor.stop_all()
        supervisor.say("lfr", "stopped")
