"""`manage.py lfr up`: the one-command runtime, started and stopped as a user would."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import psutil
import pytest
from celery import Celery

from accounts.demo import demo_password
from config.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class Launch:
    def __init__(self, var_dir: Path, ports: dict[str, int]):
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(LFR_VAR_DIR=str(var_dir), LFR_PG_PORT=str(ports["pg"]), LFR_REDIS_PORT=str(ports["redis"]),
                   LFR_WEB_PORT=str(ports["web"]), LFR_WORKER_CONCURRENCY="1", PYTHONUNBUFFERED="1")
        self.ports = ports
        self.lines: list[str] = []
        self.process = subprocess.Popen([sys.executable, "manage.py", "lfr", "up", "--demo"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.output()):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"never saw {pattern!r}; output:\n{self.output()}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(90)


def _login(port: int, username: str, password: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"})
    return opener.open(request, timeout=10).read().decode()


def test_lfr_up_serves_runs_worker_and_beat_and_stops_cleanly(tmp_path):
    ports = {"pg": free_port(), "redis": free_port(), "web": free_port()}
    launch = Launch(tmp_path / "var", ports)
    try:
        launch.wait_for(r"LFR Portal is up")
        launch.wait_for(r"beat\s*\|.*beat: Starting", timeout=60)
        assert "detective" in launch.output() and demo_password("detective") in launch.output()

        with urllib.request.urlopen(f"http://127.0.0.1:{ports['web']}/accounts/login/", timeout=10) as response:
            assert response.status == 200 and b"Sign in" in response.read()

        var = tmp_path / "var"
        redis_password = (var / "credentials" / "redis.password").read_text().strip()
        broker = Celery(broker=f"redis://:{redis_password}@127.0.0.1:{ports['redis']}/0")
        deadline = time.monotonic() + 60
        names: set[str] = set()
        while not {"lfr", "anchor"} <= names and time.monotonic() < deadline:
            names |= {name.split("@")[0] for reply in broker.control.ping(timeout=1.0) for name in reply}
        assert {"lfr", "anchor"} <= names, f"the workers never answered a ping: {names}"

        children = launch.descendants()
        assert {"postgres", "redis-server"} <= {p.name() for p in children}
        _runtime_role_is_what_the_portal_runs_as(var, ports["pg"], children)
    finally:
        code = launch.stop()
    assert code == 0, launch.output()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left behind: {[(p.pid, p.name()) for p in alive]}"
    assert "stopped" in launch.output()

    # A second start reuses the data: the demo users created the first time can sign in.
    launch = Launch(tmp_path / "var", ports)
    try:
        launch.wait_for(r"LFR Portal is up")
        page = _login(ports["web"], "officer", demo_password("officer"))
        assert "Olu Officer" in page
        assert "initdb" not in launch.output()
    finally:
        assert launch.stop() == 0


def _runtime_role_is_what_the_portal_runs_as(var: Path, pg_port: int, children: list[psutil.Process]) -> None:
    """Migrations ran as the owner; the runtime role may only read and append the audit tables; only the
    anchor worker holds the anchor key, and no runtime process the owner's credentials."""
    import psycopg

    for name in ("postgres-postgres", "postgres-lfr_owner", "postgres-lfr_app", "redis"):
        assert (var / "credentials" / f"{name}.password").stat().st_mode & 0o777 == 0o600
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="lfr")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="lfr", password="postgres")
    runtime_password = (var / "credentials" / "postgres-lfr_app.password").read_text().strip()
    with psycopg.connect(host="127.0.0.1", port=pg_port, user="lfr_app", password=runtime_password,
                         dbname="lfr", autocommit=True) as conn:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_auditevent'").fetchone()[0]
        assert owner == "lfr_owner"
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] > 0  # seed_demo wrote some
        for statement in ("UPDATE audit_auditevent SET action = action", "DELETE FROM audit_auditevent",
                          "TRUNCATE audit_auditevent"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    environments = {}
    for process in children:
        try:
            command = " ".join(process.cmdline())
            environment = process.environ()
        except psutil.Error:
            continue
        if "celery" in command or "uvicorn" in command:
            environments[command] = environment
    anchor = [env for command, env in environments.items() if "audit_anchor" in command]
    assert anchor and all("AUDIT_ANCHOR_KEY_FILE" in env for env in anchor)
    for command, env in environments.items():
        assert "DATABASE_OWNER_URL" not in env, command
        if "audit_anchor" not in command:
            assert "AUDIT_ANCHOR_KEY_FILE" not in env, command
            assert env["DATABASE_URL"].startswith("postgres://lfr_app:"), command


def test_busy_port_gives_a_clear_message(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        launch = Launch(tmp_path / "var", {"pg": free_port(), "redis": free_port(), "web": busy})
        code = launch.process.wait(60)
    time.sleep(0.2)
    output = launch.output()
    assert code == 2
    assert f"port {busy} on 127.0.0.1 is already in use" in output and "LFR_WEB_PORT" in output
    assert "Traceback" not in output
