"""An officer's alert feed while anonymous clients flood the sign-in page with wrong passwords.

    .venv/bin/python bench/login_flood.py [--clients 16] [--seconds 30]

A fresh embedded PostgreSQL + Redis under var/bench-login-flood/, the real web server (one uvicorn process,
as `manage.py lfr up` runs it, with TRUSTED_PROXIES=127.0.0.1 so each client's X-Forwarded-For address is
its address) and the real password hasher. An officer assigned to a live deployment with 20 alerts asks
for its catch-up feed (`/alerts/deployments/<id>/alerts.json`, what the live page calls) every 0.25 s.
Phases of --seconds each, the sign-in limits cleared between them:

- idle: no flood;
- one_address: N clients posting wrong passwords from one address (the issue's case);
- own_address: N clients, each from its own address;
- new_address_each_attempt: N clients, every attempt from an address never seen (no per-address limit
  can stop this; the per-account delay does only for attempts on the same username).

Each attempt names a new random username, so no per-account delay helps: every admitted attempt is hashed.
Prints the feed's median / p95 per phase and what the flood got, and adds the run under its --label to
bench/results/login_flood.json. Copy it into an older checkout (git archive) to measure that with the same
load; it needs nothing of the new code.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench-login-flood"
sys.path.insert(0, str(ROOT))

from bench.alert_latency import percentile, session_cookie, setup_world, stop, web_server_start  # noqa: E402

PHASES = ("idle", "one_address", "own_address", "new_address_each_attempt")


def flood_client(base: str, index: int, phase: str, until: float, statuses: Counter, lock: threading.Lock) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    attempt = 0
    while time.monotonic() < until:
        attempt += 1
        address = {"one_address": "198.51.100.1", "own_address": f"198.51.100.{10 + index}",
                   "new_address_each_attempt": f"10.{index}.{attempt // 250}.{attempt % 250 + 1}"}[phase]
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": f"guess-{index}-{attempt}",
                                       "password": "wrong-password-123"}).encode()
        request = urllib.request.Request(f"{base}/accounts/login/", data=body,
                                         headers={"X-Forwarded-For": address, "Referer": f"{base}/accounts/login/"})
        try:
            status = opener.open(request, timeout=120).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = "error"
        with lock:
            statuses[status] += 1


def feed_latencies(base: str, deployment_id: int, cookie: str, until: float, interval: float) -> list[float]:
    latencies = []
    url = f"{base}/alerts/deployments/{deployment_id}/alerts.json"
    while time.monotonic() < until:
        started = time.monotonic()
        request = urllib.request.Request(url, headers={"Cookie": cookie, "X-Forwarded-For": "192.0.2.200"})
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200 and len(json.loads(response.read())["alerts"]) == 20
        latencies.append(time.monotonic() - started)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return latencies


def run_phase(base: str, phase: str, clients: int, seconds: float, deployment_id: int, cookie: str) -> dict:
    statuses: Counter = Counter()
    lock = threading.Lock()
    until = time.monotonic() + seconds
    flooders = [threading.Thread(target=flood_client, args=(base, i, phase, until, statuses, lock), daemon=True)
                for i in range(clients if phase != "idle" else 0)]
    for thread in flooders:
        thread.start()
    time.sleep(1.0 if flooders else 0)  # the flood under way before the officer's first request
    latencies = feed_latencies(base, deployment_id, cookie, until, 0.25)
    for thread in flooders:
        thread.join()
    ms = [1000 * s for s in latencies]
    return {"feed_requests": len(ms), "feed_p50_ms": round(percentile(ms, 50), 1),
            "feed_p95_ms": round(percentile(ms, 95), 1), "feed_max_ms": round(max(ms), 1),
            "sign_in_attempts": sum(statuses.values()),
            "sign_in_answers": {str(k): v for k, v in sorted(statuses.items(), key=str)}}


def limits_cleared() -> None:
    try:
        from accounts.login_throttle import throttle_clear
    except ImportError:  # a checkout from before the limits
        return
    throttle_clear()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--label", default="sign-in limits")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "login_flood.json")
    args = parser.parse_args()
    from bench.services import django_on_fresh_services

    with django_on_fresh_services(VAR, CAMERA_FILE_ROOT=str(VAR / "video"), SESSION_IDLE_SECONDS="86400",
                                  TRUSTED_PROXIES="127.0.0.1"):
        web = None
        try:
            deployment, crew = setup_world(1)
            from django.utils import timezone

            from alerts.services import alert_create
            from audit.models import AuditEvent
            from deployments.models import SnapshotReference

            reference = SnapshotReference.objects.filter(snapshot__deployment=deployment).first()
            for track in range(20):
                alert_create(deployment_id=deployment.pk, camera_id=deployment.cameras.first().pk,
                             snapshot_reference=reference, score=0.7, threshold=deployment.threshold,
                             model_id="bench", track_id=track, frame_time=timezone.now(),
                             probe_jpeg=b"\xff\xd8\xff\xd9")
            cookie = session_cookie(crew[0])
            web, port = web_server_start(log=VAR / "web.log")
            base = f"http://127.0.0.1:{port}"
            feed_latencies(base, deployment.pk, cookie, time.monotonic() + 2, 0.25)  # warm-up
            load_before = os.getloadavg()
            phases = {}
            for phase in args.phases.split(","):
                limits_cleared()
                events_before = AuditEvent.objects.count()
                print(f"{phase}: {args.seconds:.0f} s", flush=True)
                phases[phase] = run_phase(base, phase, args.clients, args.seconds, deployment.pk, cookie)
                time.sleep(3)  # requests still queued finish
                phases[phase]["audit_events_written"] = AuditEvent.objects.count() - events_before
                print(f"  {json.dumps(phases[phase])}", flush=True)
            result = {
                "label": args.label, "clients": args.clients, "seconds_per_phase": args.seconds,
                "phases": phases,
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                            "load_average_at_start": [round(x, 2) for x in load_before]},
                "command": f"python bench/login_flood.py --clients {args.clients} --seconds {args.seconds:g} "
                           f"--phases {args.phases} --label '{args.label}'",
            }
            print(json.dumps(result, indent=2))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            runs = json.loads(args.out.read_text())["runs"] if args.out.exists() else {}
            runs[args.label] = result  # one file for the runs being compared, by label
            args.out.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
        finally:
            if web is not None:
                stop(web)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
