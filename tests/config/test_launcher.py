"""`manage.py lfr up`: the one-command runtime, started and stopped as a user would."""

import io
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
from config.launcher import RestartPolicy, Supervisor

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class Launch:
    def __init__(self, var_dir: Path, ports: dict[str, int]):
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(LFR_VAR_DIR=str(var_dir), LFR_PG_PORT=str(ports["pg"]), LFR_REDIS_PORT=str(ports["redis"]),
                   LFR_WEB_PORT=str(ports["web"]), LFR_WORKER_CONCURRENCY="1", LFR_CONTROL_CONCURRENCY="1",
                   PYTHONUNBUFFERED="1")
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
        _workers_answer(broker, {"control", "cameras", "anchor"})
        assert "-Q recognition" in _command_of(launch, "cameras@") and "-Q default " in _command_of(launch, "control@")

        _killed_children_come_back(launch, broker, var, ports)

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


def _workers_answer(broker: Celery, expected: set[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    names: set[str] = set()
    while not expected <= names and time.monotonic() < deadline:
        try:
            names |= {name.split("@")[0] for reply in broker.control.ping(timeout=1.0) for name in reply}
        except Exception:
            time.sleep(0.5)
    assert expected <= names, f"the workers never answered a ping: {names}"


def _process_of(launch: Launch, marker: str) -> psutil.Process:
    """The launcher's child (not a pool process) whose command line holds `marker`."""
    for process in psutil.Process(launch.process.pid).children():
        try:
            if marker in " ".join(process.cmdline()):
                return process
        except psutil.Error:
            continue
    raise AssertionError(f"no child runs {marker!r}; output:\n{launch.output()}")


def _command_of(launch: Launch, marker: str) -> str:
    return " ".join(_process_of(launch, marker).cmdline())


def _wait_for_new_process(launch: Launch, marker: str, old_pid: int, timeout: float = 90) -> psutil.Process:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            process = _process_of(launch, marker)
            if process.pid != old_pid:
                return process
        except AssertionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{marker!r} was not started again; output:\n{launch.output()}")


def _killed_children_come_back(launch: Launch, broker: Celery, var: Path, ports: dict[str, int]) -> None:
    """SIGKILL the camera worker, then the embedded Redis and PostgreSQL: each is started again (the servers on
    their own port and data), the portal stays up, and the workers answer again."""
    import psycopg
    import redis

    cameras = _process_of(launch, "cameras@")
    cameras.kill()
    _wait_for_new_process(launch, "cameras@", cameras.pid)
    launch.wait_for(r"lfr\s*\| cameras exited unexpectedly with code -9 after \d+s; restarting it in 1s")
    launch.wait_for(r"lfr\s*\| cameras restarted \(pid \d+, restart 1\)")
    _workers_answer(broker, {"cameras"})

    server = _process_of(launch, "redis-server")
    server.kill()
    _wait_for_new_process(launch, "redis-server", server.pid)
    launch.wait_for(r"lfr\s*\| redis restarted")
    password = (var / "credentials" / "redis.password").read_text().strip()
    assert redis.Redis(port=ports["redis"], password=password).ping()
    _workers_answer(broker, {"control", "cameras", "anchor"})

    postgres = _process_of(launch, "postgres -D")
    postgres.kill()
    _wait_for_new_process(launch, "postgres -D", postgres.pid)
    launch.wait_for(r"lfr\s*\| postgres restarted")
    runtime_password = (var / "credentials" / "postgres-lfr_app.password").read_text().strip()
    with psycopg.connect(host="127.0.0.1", port=ports["pg"], user="lfr_app", password=runtime_password,
                         dbname="lfr", connect_timeout=5) as conn:
        assert conn.execute("SELECT count(*) FROM auth_user").fetchone()[0] >= 5  # the demo users survived
    assert launch.process.poll() is None
    with urllib.request.urlopen(f"http://127.0.0.1:{ports['web']}/accounts/login/", timeout=10) as response:
        assert response.status == 200


def test_a_child_killed_with_sigkill_is_started_again_with_back_off():
    out = io.StringIO()
    supervisor = Supervisor(out=out, policy=RestartPolicy(first_delay=0.2, max_delay=0.8, stable_after=2.0))
    sleeper = supervisor.spawn("sleeper", [sys.executable, "-c", "import time; print('up'); time.sleep(600)"],
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    crasher = supervisor.spawn("crasher", [sys.executable, "-c", "raise SystemExit(3)"], env=dict(os.environ))
    runner = threading.Thread(target=supervisor.wait, daemon=True)
    runner.start()

    def restarted(child, old_pid: int, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.process.pid != old_pid and child.process.poll() is None:
                return child.process.pid
            time.sleep(0.02)
        raise AssertionError(f"{child.name} was not started again:\n{out.getvalue()}")

    try:
        first = sleeper.process.pid
        os.kill(first, signal.SIGKILL)
        second = restarted(sleeper, first)
        os.kill(second, signal.SIGKILL)  # again at once: the delay doubles
        third = restarted(sleeper, second)
        time.sleep(2.5)  # up longer than stable_after: the next crash starts from the first delay again
        os.kill(third, signal.SIGKILL)
        restarted(sleeper, third)

        restarted_output = re.compile(r"sleeper restarted \(pid \d+, restart 3\)\n(.*\n)*sleeper\s*\| up")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
                out.getvalue().count("crasher exited unexpectedly with code 3") >= 5
                and restarted_output.search(out.getvalue())):
            time.sleep(0.05)
    finally:
        supervisor.stopping.set()
        runner.join(10)
        supervisor.stop_all()
    log = out.getvalue()
    sleeper_delays = re.findall(r"sleeper exited unexpectedly with code -9 after \d+s; restarting it in ([\d.]+)s", log)
    assert sleeper_delays == ["0.2", "0.4", "0.2"], log
    assert log.count("sleeper restarted") == 3 and restarted_output.search(log), log  # its output is still shown
    crasher_delays = re.findall(r"crasher exited unexpectedly with code 3 after \d+s; restarting it in ([\d.]+)s", log)
    assert crasher_delays[:5] == ["0.2", "0.4", "0.8", "0.8", "0.8"], log
    assert not runner.is_alive() and supervisor.children == []
    assert sleeper.process.poll() is not None and crasher.process.poll() is not None


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
