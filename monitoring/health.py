"""/healthz: each part of the system, for a load balancer and for the operator who must find what is broken.

Parts: the database, the broker (Redis), the workers seen by heartbeat (a control worker on the default queue,
the window check it runs for beat, a recognition worker while a deployment should be running) and the cameras
of those deployments (claimed by a worker and streaming). Anyone gets the status code and each part's ok /
failed; the details need the monitoring token or a signed-in oversight user or administrator
(monitoring/access.py). 503 when a part of HEALTH_REQUIRED_PARTS fails (by default the database and the
broker: the portal cannot serve without them, while a lost camera or GPU host must not take the portal out of
a load balancer's rotation; the body says "degraded").

Every probe gives up after HEALTH_TIMEOUT_SECONDS: PostgreSQL is reached on a fresh connection with a connect
timeout (not the request's Django connection, which has none), Redis with socket timeouts and no retries, both
at once; what needs the database or Redis is skipped when the probe of it failed.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.heartbeat import WorkersSeen, workers_seen
from core.redaction import credentials_masked
from core.redis_probe import celery_queue_lengths, monitoring_redis
from deployments.selectors import WINDOW_CHECK_GRACE_S, deployment_not_live_reasons, deployments_due
from monitoring.access import health_details_allowed, monitoring_token_given

OK, FAILED = "ok", "failed"
LIBPQ_MIN_CONNECT_TIMEOUT = 2  # libpq waits at least 2 s whatever is asked
# Problems of the selector that belong to the cameras part; the others are about workers and the window check.
CAMERA_CODES = {"no_cameras", "camera_unclaimed", "camera_lost", "camera_idle", "camera_connecting"}


def _error(exc: BaseException) -> str:
    return credentials_masked(f"{type(exc).__name__}: {exc}")[:300]


def database_probe() -> dict:
    params = {key: value for key, value in connection.get_connection_params().items()
              if key not in ("cursor_factory", "context", "prepare_threshold", "connect_timeout", "options")}
    timeout = settings.HEALTH_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        with psycopg.connect(**params, connect_timeout=max(LIBPQ_MIN_CONNECT_TIMEOUT, round(timeout)),
                             options=f"-c statement_timeout={int(timeout * 1000)}") as probe:
            probe.execute("SELECT 1")
    except Exception as exc:
        return {"status": FAILED, "error": _error(exc)}
    return {"status": OK, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def broker_probe(client) -> dict:
    started = time.monotonic()
    try:
        client.ping()
        latency = round((time.monotonic() - started) * 1000, 1)
        queues = celery_queue_lengths(client=client)
    except Exception as exc:
        return {"status": FAILED, "error": _error(exc)}
    return {"status": OK, "latency_ms": latency, "queues": queues}


def _worker_rows(beats) -> list[dict]:
    now = time.time()
    return [{"name": b.name, "queues": list(b.queues), "slots": b.slots, "busy": b.busy,
             "seen_s_ago": round(b.age(now), 1)} for b in beats]


def _parts_needing_both(*, database_ok: bool, workers: WorkersSeen) -> tuple[dict, dict]:
    if not workers.reachable:
        unknown = {"status": FAILED, "error": f"the broker does not answer: {_error(Exception(workers.error))}"}
        return unknown, dict(unknown)
    worker_problems: list[str] = []
    if not workers.control:
        worker_problems.append("No control worker is running (no heartbeat from a worker on the default queue).")
    elif workers.window_check_at is None or time.time() - workers.window_check_at > WINDOW_CHECK_GRACE_S:
        worker_problems.append("The window check (beat's deployments_tick on the control worker) has not run in the "
                               f"last {WINDOW_CHECK_GRACE_S} s: is Celery beat running?")
    camera_rows: list[dict] = []
    camera_problems: list[str] = []
    if database_ok:
        for deployment in deployments_due():
            reasons = deployment_not_live_reasons(deployment=deployment, workers=workers)
            for reason in reasons:
                if reason.code == "no_control_worker":
                    continue  # said once, above
                target = camera_problems if reason.code in CAMERA_CODES else worker_problems
                target.append(f"Deployment “{deployment.name}” ({deployment.pk}): {reason.message}")
            flagged = {r.camera_id for r in reasons if r.camera_id}
            camera_rows += [{"id": c.pk, "name": c.name, "deployment": deployment.pk, "status": c.status,
                             "ok": c.pk not in flagged} for c in deployment.cameras.all() if c.enabled]
    else:
        camera_problems.append("unknown: the database does not answer")
    workers_part = {"status": FAILED if worker_problems else OK, "control": _worker_rows(workers.control),
                    "recognition": _worker_rows(workers.recognition),
                    "other": _worker_rows(b for b in workers.heartbeats if not (b.is_control or b.is_recognition)),
                    "problems": worker_problems,
                    "window_check_s_ago": None if workers.window_check_at is None
                    else round(time.time() - workers.window_check_at, 1)}
    cameras_part = {"status": FAILED if camera_problems else OK, "cameras": camera_rows, "problems": camera_problems}
    return workers_part, cameras_part


class SingleFlight:
    """Callers that arrive while a probe runs share its result: a flood of /healthz requests makes one probe at a
    time per process, not one PostgreSQL login each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Future | None = None

    def run(self, probe):
        with self._lock:
            future, mine = self._running, False
            if future is None:
                future = self._running = Future()
                mine = True
        if mine:
            try:
                future.set_result(probe())
            except BaseException as exc:
                future.set_exception(exc)
            finally:
                with self._lock:
                    self._running = None
        return future.result()


_probes = SingleFlight()


def health_report() -> dict[str, dict]:
    """Each part's status and its details (shared with requests arriving while it runs)."""
    return _probes.run(_health_probe)


def _health_probe() -> dict[str, dict]:
    client = monitoring_redis()
    try:
        with ThreadPoolExecutor(2, thread_name_prefix="healthz") as pool:
            database = pool.submit(database_probe)
            broker = broker_probe(client)
            database = database.result()
        workers = workers_seen(client=client) if broker["status"] == OK else WorkersSeen(
            reachable=False, error=broker.get("error", ""))
        workers_part, cameras_part = _parts_needing_both(database_ok=database["status"] == OK, workers=workers)
    finally:
        client.close()
    return {"database": database, "broker": broker, "workers": workers_part, "cameras": cameras_part}


@login_not_required
@never_cache
@require_GET
def healthz(request):
    report = health_report()
    parts = {name: part["status"] for name, part in report.items()}
    failed = {name for name, status in parts.items() if status == FAILED}
    required_failed = failed & set(settings.HEALTH_REQUIRED_PARTS)
    body = {"status": FAILED if required_failed else "degraded" if failed else OK, "parts": parts}
    # Deciding on a signed-in user reads the session and the user: only once the database has answered.
    if monitoring_token_given(request) or (parts["database"] == OK and health_details_allowed(request)):
        body["details"] = report
    return JsonResponse(body, status=503 if required_failed else 200)
