"""The private instance bench/faults.py injects faults into: its own PostgreSQL and Redis, `manage.py lfr up`,
and the portal as its users see it (HTTP only: this module does not import Django).

PostgreSQL and Redis are started here (the classes `lfr up` uses) and handed to `lfr up` as DATABASE_URL /
REDIS_URL, as in the production layout, so that a scenario can stop one for a set time and start it again on
the same port and data. Everything lives under one private folder (LFR_VAR_DIR) on free ports; a demo's var/
is never touched. Processes are found by reading /proc, and only descendants of our own `lfr up` are ever
signalled.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.embedded import RUNTIME_ROLE, EmbeddedPostgres, EmbeddedRedis, die_with_parent, free_port  # noqa: E402

LEASE_PREFIX = "lfr:camera-lease"  # recognition.leases.LEASE_PREFIX (not imported: it needs Django settings)


def epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def wait_for(predicate, *, timeout: float, interval: float = 0.5, what: str = "condition"):
    """Poll until `predicate()` is truthy (returns it) or raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (OSError, ValueError, KeyError):
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not within {timeout:.0f}s")
        time.sleep(interval)


# --- processes ----------------------------------------------------------------------------------

def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        table[int(entry)] = (parent, cmdline.strip())
    return table


def descendants(root: int) -> dict[int, str]:
    table = process_table()
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, cmdline) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = cmdline
                frontier.append(pid)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- data services ------------------------------------------------------------------------------

@dataclass
class DataServices:
    var: Path
    postgres: EmbeddedPostgres = field(init=False)
    redis: EmbeddedRedis = field(init=False)

    def __post_init__(self) -> None:
        self.postgres = EmbeddedPostgres(data_dir=self.var / "pgdata", port=free_port(),
                                         log_file=self.var / "postgres.log", var_dir=self.var)
        self.redis = EmbeddedRedis(data_dir=self.var / "redis", port=free_port(), log_file=self.var / "redis.log",
                                   var_dir=self.var)

    def start(self) -> None:
        self.postgres.start()
        self.redis.start()

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()

    def environment(self) -> dict[str, str]:
        return {"DATABASE_URL": self.postgres.url, "DATABASE_OWNER_URL": self.postgres.owner_url,
                "DATABASE_RUNTIME_ROLE": RUNTIME_ROLE, "REDIS_URL": self.redis.url,
                "LFR_PG_PORT": str(self.postgres.port), "LFR_REDIS_PORT": str(self.redis.port)}

    def redis_client(self):
        import redis

        return redis.Redis.from_url(self.redis.url, socket_timeout=2, socket_connect_timeout=2)


# --- the portal as its users see it -------------------------------------------------------------

class PortalClient:
    """One signed-in user's HTTP session."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def sign_in(self, username: str, password: str) -> None:
        page = self.opener.open(f"{self.base}/accounts/login/", timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username,
                                       "password": password}).encode()
        request = urllib.request.Request(f"{self.base}/accounts/login/", data=body,
                                         headers={"Referer": f"{self.base}/accounts/login/"})
        final = self.opener.open(request, timeout=60)
        if "/accounts/login" in final.geturl():
            raise RuntimeError(f"{username} could not sign in")

    def get_json(self, path: str, *, timeout: float = 10) -> dict:
        with self.opener.open(f"{self.base}{path}", timeout=timeout) as response:
            return json.loads(response.read())

    def status(self, path: str, *, timeout: float = 10) -> int | None:
        try:
            with self.opener.open(f"{self.base}{path}", timeout=timeout) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def alerts(self, deployment_id: int) -> list[dict]:
        """The officer's catch-up feed (what the live page loads), every page of it."""
        seen: dict[int, dict] = {}
        after = 0
        while True:
            batch = self.get_json(f"/alerts/deployments/{deployment_id}/alerts.json?after={after}")["alerts"]
            fresh = [a for a in batch if a["id"] not in seen]
            for alert in fresh:
                seen[alert["id"]] = alert
            if len(batch) < 500 or not fresh:
                return sorted(seen.values(), key=lambda a: a["id"])
            after = max(seen)

    def camera(self, camera_id: int) -> dict:
        return self.get_json(f"/api/cameras/{camera_id}/")

    def deployment(self, deployment_id: int) -> dict:
        return self.get_json(f"/api/deployments/{deployment_id}/")


def http_status(url: str, *, timeout: float = 2.0) -> int | None:
    """The status an HTTP GET got, or None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


# --- lfr up -------------------------------------------------------------------------------------

class Portal:
    """`manage.py lfr up` on a private web port, in the environment of the DataServices."""

    def __init__(self, *, var: Path, services: DataServices, extra_env: dict[str, str]) -> None:
        self.var = var
        self.services = services
        self.web_port = free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.env = {**os.environ, **services.environment(), "LFR_VAR_DIR": str(var), "LFR_WEB_PORT": str(self.web_port),
                    "CAMERA_FILE_ROOT": str(var / "video"), "PROTECTED_MEDIA_ROOT": str(var / "protected"),
                    "SESSION_IDLE_SECONDS": "86400", "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "config.settings",
                    **extra_env}
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.var / "lfr-up.log"

    def start(self, *, timeout: float = 240) -> None:
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"\n===== lfr up start {self.starts} at {dt.datetime.now():%H:%M:%S} =====\n")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "lfr", "up", "--port", str(self.web_port)], cwd=ROOT,
            env=self.env, stdout=open(self.log, "a"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=die_with_parent)  # the bench killed: lfr up stops its children
        # the sign-in page, not /healthz: whether /healthz says 200 is one of the things the bench measures
        wait_for(lambda: self.running() and http_status(f"{self.base}/accounts/login/") == 200, timeout=timeout,
                 what="lfr up serving its sign-in page")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure_running(self) -> bool:
        """Start it again if a fault stopped it; True when that was needed."""
        if self.running() and http_status(f"{self.base}/healthz") is not None:
            return False
        self.stop()
        self.start()
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        family = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for pid, _ in family.items():  # anything the launcher could not stop (it was killed, say)
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.process = None

    def child(self, pattern: str) -> int | None:
        """The pid of our launcher's direct child whose command line matches `pattern`."""
        if self.process is None:
            return None
        table = process_table()
        for pid, (ppid, cmdline) in table.items():
            if ppid == self.process.pid and re.search(pattern, cmdline):
                return pid
        return None

    def owns(self, pid: int) -> bool:
        return self.process is not None and pid in descendants(self.process.pid)

    def world(self, *args: str, timeout: float = 600) -> dict:
        """Run bench/fault_world.py against this instance (runtime role, as the web and workers are)."""
        env = {k: v for k, v in self.env.items() if k != "DATABASE_OWNER_URL"}
        result = subprocess.run([sys.executable, str(ROOT / "bench" / "fault_world.py"), *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"fault_world {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


# --- what the bench watches during a run -------------------------------------------------------

class Watcher:
    """Background polls every `interval` s: the portal (/healthz), the camera's status as the officer sees it
    (each new 'streaming' time is an origin of the video), and the camera's lease in Redis (fresh = renewed
    within the last 2.5 s by a live process: the worker's loop is running)."""

    def __init__(self, *, portal: Portal, officer: PortalClient, deployment_id: int, camera_id: int,
                 lease_ttl_s: float = 15.0, interval: float = 0.5) -> None:
        self.portal, self.officer = portal, officer
        self.deployment_id, self.camera_id = deployment_id, camera_id
        self.lease_ttl_ms = lease_ttl_s * 1000
        self.interval = interval
        self.health: list[tuple[float, int | None]] = []
        self.lease: list[tuple[float, bool, str | None]] = []
        self.origins: set[float] = set()
        self.status: list[tuple[float, str | None]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._poll_health, daemon=True),
                         threading.Thread(target=self._poll_camera, daemon=True),
                         threading.Thread(target=self._poll_lease, daemon=True)]

    def start(self) -> Watcher:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _poll_health(self) -> None:
        while not self._stop.is_set():
            self.health.append((time.time(), http_status(f"{self.portal.base}/healthz")))
            self._stop.wait(self.interval)

    def _poll_camera(self) -> None:
        while not self._stop.is_set():
            try:
                camera = self.officer.camera(self.camera_id)
                self.status.append((time.time(), camera["status"]))
                if camera["status"] == "streaming" and camera["status_changed_at"]:
                    self.origins.add(epoch(camera["status_changed_at"]))
            except (OSError, ValueError, KeyError):
                self.status.append((time.time(), None))
            self._stop.wait(self.interval)

    def _poll_lease(self) -> None:
        key = f"{LEASE_PREFIX}:{self.deployment_id}:{self.camera_id}"
        client = None
        while not self._stop.is_set():
            fresh, holder = False, None
            try:
                client = client or self.portal.services.redis_client()
                pipe = client.pipeline()
                pipe.get(key)
                pipe.pttl(key)
                value, pttl = pipe.execute()
                holder = value.decode() if value else None
                # renewed within 2.5 s by a process that is still there (a killed holder's lease lingers)
                fresh = (holder is not None and pttl >= self.lease_ttl_ms - 2500
                         and alive(int(holder.split(":")[-2])))
            except Exception:
                client = None
            self.lease.append((time.time(), fresh, holder))
            self._stop.wait(self.interval)

    # --- readings ---

    def lease_holder_pid(self) -> int | None:
        for _, _fresh, holder in reversed(self.lease):
            if holder:
                return int(holder.split(":")[-2])  # recognition.camera_worker: "<host>:<pid>:<token>"
        return None

    def portal_readings(self, since: float, until: float) -> dict:
        polls = [(t, s) for t, s in self.health if since <= t <= until]
        answered = [s is not None for _, s in polls]
        return {"polls": len(polls), "unanswered": answered.count(False),
                "not_ok": sum(1 for _, s in polls if s != 200),
                "longest_not_ok_s": round(_longest(polls, lambda s: s != 200, self.interval), 1)}

    def recovered_at(self, since: float, *, hold_s: float = 2.0) -> float | None:
        """The first moment after `since` from which, for `hold_s` (every poll in between), /healthz answered
        200, the lease was fresh and the officer's page showed the camera streaming."""
        samples = sorted([(t, "h", s == 200) for t, s in self.health if t >= since]
                         + [(t, "l", fresh) for t, fresh, _ in self.lease if t >= since]
                         + [(t, "c", status == "streaming") for t, status in self.status if t >= since])
        state = {"h": None, "l": None, "c": None}
        good_since = None
        for t, kind, ok in samples:
            state[kind] = ok
            if state["h"] and state["l"] and state["c"]:
                good_since = good_since if good_since is not None else t
                if t - good_since >= hold_s:
                    return good_since
            else:
                good_since = None
        return None


def _longest(polls: list[tuple[float, object]], bad, interval: float) -> float:
    longest, began = 0.0, None
    for t, status in polls:
        if bad(status):
            began = t if began is None else began
            longest = max(longest, t - began + interval)
        else:
            began = None
    return longest


def fresh_var(var: Path) -> Path:
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    return var
