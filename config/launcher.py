"""`manage.py lfr up`: the whole system as child processes of one terminal.

Starts the embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL point elsewhere),
migrates, then runs the ASGI server, the Celery workers (control, cameras, anchor) and Celery beat, with
every child's output prefixed and interleaved. A child that exits, the embedded servers included, is started
again with back-off (RestartPolicy); only Ctrl-C or SIGTERM stops them all, in reverse order, then the servers.
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
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class RestartPolicy:
    """How long a crashed child waits before it is started again: `first_delay`, doubling at each crash up to
    `max_delay`; a child that stayed up `stable_after` seconds starts from `first_delay` again."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    start: Callable[[], subprocess.Popen]  # starts it (again), with the same command, port and data folder
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 20.0
    signal_group: bool = False  # send the stop signal to the child's whole process group
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None  # set while it waits to be started again
    delay: float = 0.0  # the last back-off
    restarts: int = 0

    def next_delay(self, *, ran_for: float, policy: RestartPolicy) -> float:
        if ran_for >= policy.stable_after or not self.delay:
            self.delay = policy.first_delay
        else:
            self.delay = min(self.delay * 2, policy.max_delay)
        return self.delay


def _kill_session(process: subprocess.Popen) -> None:
    """Whatever a child left in its session (a worker's pool processes, PostgreSQL's backends) goes too: a
    pool process of a dead worker would otherwise go on renewing its camera leases."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Supervisor:
    """Runs children in their own sessions, pumps their output with a prefix, starts a child that exits again
    (with back-off), and stops them in order when asked to."""

    def __init__(self, *, out=None, policy: RestartPolicy = RestartPolicy()) -> None:
        self.out = out or sys.stdout
        self.policy = policy
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

    def adopt(self, name: str, start: Callable[[], subprocess.Popen], **kwargs) -> Child:
        """Start a child with `start` and keep it running."""
        child = Child(name, start(), start, **kwargs)
        self.children.append(child)
        self._pump_output(child)
        return child

    def spawn(self, name: str, command: list[str], *, env: dict[str, str], **kwargs) -> Child:
        def start() -> subprocess.Popen:
            return subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=die_with_parent,
            )

        return self.adopt(name, start, **kwargs)

    def run_to_end(self, name: str, command: list[str], *, env: dict[str, str]) -> int:
        child = self.spawn(name, command, env=env)
        code = child.process.wait()
        self.children.remove(child)
        return code

    def _pump_output(self, child: Child) -> None:
        if child.process.stdout is not None:
            threading.Thread(target=self._pump, args=(child.name, child.process), daemon=True).start()

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            self.say(name, raw.decode("utf-8", "replace"))

    def wait(self) -> int:
        """Keep every child running until a signal asks us to stop (then 0)."""
        while not self.stopping.is_set():
            for child in self.children:
                if child.restart_at is None:
                    self._notice_exit(child)
                elif time.monotonic() >= child.restart_at and not self.stopping.is_set():
                    self._restart(child)
            self.stopping.wait(0.2)
        return 0

    def _notice_exit(self, child: Child) -> None:
        code = child.process.poll()
        if code is None:
            return
        _kill_session(child.process)
        ran_for = time.monotonic() - child.started_at
        delay = child.next_delay(ran_for=ran_for, policy=self.policy)
        child.restart_at = time.monotonic() + delay
        self.say("lfr", f"{child.name} exited unexpectedly with code {code} after {ran_for:.0f}s; "
                        f"restarting it in {delay:g}s")

    def _restart(self, child: Child) -> None:
        try:
            process = child.start()
        except (ServiceError, OSError) as exc:
            delay = child.next_delay(ran_for=0.0, policy=self.policy)
            child.restart_at = time.monotonic() + delay
            self.say("lfr", f"{child.name} could not be restarted: {exc}; trying again in {delay:g}s")
            return
        child.process, child.started_at, child.restart_at = process, time.monotonic(), None
        child.restarts += 1
        self._pump_output(child)
        self.say("lfr", f"{child.name} restarted (pid {process.pid}, restart {child.restarts})")

    def stop_all(self) -> None:
        for child in reversed(self.children):
            process = child.process
            if process.poll() is not None:
                _kill_session(process)
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
                _kill_session(process)
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.children.clear()


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve().parent.parent / "manage.py"), *args]


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config", *args]


def _service_starter(service: EmbeddedPostgres | EmbeddedRedis) -> Callable[[], subprocess.Popen]:
    """Starts the embedded server, again after a crash too: same port, same data folder, same passwords."""
    def start() -> subprocess.Popen:
        try:
            service.start(stdout=subprocess.PIPE)
        except ServiceError:
            if service.process is not None:
                _kill_session(service.process)
            raise
        return service.process

    return start


def start_data_services(supervisor: Supervisor, *, var_dir: Path, pg_port: int, redis_port: int,
                        embedded_postgres: bool, embedded_redis: bool, env: dict[str, str]) -> None:
    if embedded_postgres:
        postgres = EmbeddedPostgres(data_dir=var_dir / "pgdata", port=pg_port)
        supervisor.say("lfr", f"starting PostgreSQL (embedded) on 127.0.0.1:{pg_port}, data in {postgres.data_dir}")
        supervisor.adopt("postgres", _service_starter(postgres), stop_signal=signal.SIGINT, stop_timeout=60)
        env["DATABASE_URL"] = postgres.url
        env["DATABASE_OWNER_URL"] = postgres.owner_url
        env["DATABASE_RUNTIME_ROLE"] = RUNTIME_ROLE
    if embedded_redis:
        redis = EmbeddedRedis(data_dir=var_dir / "redis", port=redis_port)
        supervisor.say("lfr", f"starting Redis (embedded) on 127.0.0.1:{redis_port}, data in {redis.data_dir}")
        supervisor.adopt("redis", _service_starter(redis))
        env["REDIS_URL"] = redis.url


def worker_commands(*, control_concurrency: int, camera_concurrency: int) -> dict[str, list[str]]:
    """The Celery workers of `lfr up`. Camera loops run for a deployment's whole window, so they get a worker
    and a process pool of their own: beat's control jobs (windows opening and closing, camera supervision,
    purges), enrolment and imports never wait for a camera slot."""
    return {
        "control": _celery("worker", "-Q", "default", "-l", "INFO", "--concurrency", str(control_concurrency),
                           "-n", "control@%h"),
        "cameras": _celery("worker", "-Q", "recognition", "-l", "INFO", "--concurrency", str(camera_concurrency),
                           "-n", "cameras@%h"),
    }


def beat_command(*, schedule_file: Path) -> list[str]:
    return _celery("beat", "-l", "INFO", "--pidfile=", "-s", str(schedule_file))


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


def up(*, settings, web_host: str, web_port: int, camera_concurrency: int, control_concurrency: int, demo: bool,
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
                                           # the client's address is read in one place: core.client_address
                                           "--no-server-header", "--no-proxy-headers"], env=runtime_env)
            for name, command in worker_commands(control_concurrency=control_concurrency,
                                                 camera_concurrency=camera_concurrency).items():
                supervisor.spawn(name, command, env=runtime_env, stop_timeout=30, signal_group=True)
            supervisor.spawn("anchor", _celery("worker", "-Q", "audit_anchor", "-l", "INFO", "--pool", "solo",
                                               "-n", "anchor@%h", "--without-gossip", "--without-mingle"),
                             env=without(env, *OWNER_ONLY), stop_timeout=30, signal_group=True)
            supervisor.spawn("beat", beat_command(schedule_file=settings.VAR_DIR / "celerybeat-schedule"),
                             env=runtime_env)
            if not _wait_until_listening(web_host, web_port, process=web.process, stop=supervisor.stopping):
                supervisor.say("lfr", "the web server did not start; stopping")
                return 1
            supervisor.say("lfr", f"LFR Portal is up: http://{web_host}:{web_port}/  (Ctrl-C stops everything; "
                                  "a process that exits is started again)")
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
