"""/healthz: each part, what anonymous callers see against operators, 503 only for the required parts, and a
quick answer when Redis or PostgreSQL is down or hangs."""

from __future__ import annotations

import os
import signal
import socket
import socket as socket_module
import time

import pytest
from django.db import connection

from core.heartbeat import WINDOW_CHECK_JOB, job_heartbeat_record, worker_heartbeat_write
from core.redis_probe import monitoring_redis
from tests.monitoring_helpers import kill_group, start_worker, wait_for

pytestmark = pytest.mark.django_db

PARTS = {"database", "broker", "workers", "cameras"}


def control_worker_seen(name: str = "control@test") -> None:
    """As a running control worker and beat's window check would leave Redis."""
    worker_heartbeat_write(client=monitoring_redis(), name=name, queues=["default"], slots=2, busy=0)
    job_heartbeat_record(name=WINDOW_CHECK_JOB)


def test_anonymous_gets_each_part_ok_or_failed_and_nothing_else(client, private_redis):
    control_worker_seen()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "parts": dict.fromkeys(PARTS, "ok")}


def test_a_missing_control_worker_is_failed_but_not_a_503_by_default(client, private_redis):
    response = client.get("/healthz")
    assert response.status_code == 200  # a load balancer keeps the portal in rotation
    assert response.json()["status"] == "degraded"
    assert response.json()["parts"]["workers"] == "failed"


def test_required_parts_are_a_setting(client, private_redis, settings):
    settings.HEALTH_REQUIRED_PARTS = ["database", "broker", "workers"]
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "failed"


@pytest.mark.parametrize("who, sees", [("oversight", True), ("administrator", True), ("detective", False),
                                       ("officer", False), ("commander", False), ("outsider", False)])
def test_details_for_oversight_and_administrators(request, client_as, private_redis, who, sees):
    control_worker_seen("control@details")
    body = client_as(request.getfixturevalue(who)).get("/healthz").json()
    assert ("details" in body) is sees
    if sees:
        assert set(body["details"]) == PARTS
        assert [w["name"] for w in body["details"]["workers"]["control"]] == ["control@details"]
        assert body["details"]["broker"]["queues"] == {"default": 0, "recognition": 0}


def test_oversight_who_has_not_given_the_mfa_code_gets_no_details(client, oversight, private_redis):
    client.force_login(oversight)  # password only: MFA_REQUIRED_ROLES includes oversight
    assert "details" not in client.get("/healthz").json()


def test_details_with_the_monitoring_token_only(client, private_redis, monitoring_token):
    assert "details" in client.get("/healthz", **monitoring_token).json()
    assert "details" not in client.get("/healthz", HTTP_AUTHORIZATION="Bearer wrong-token").json()


def test_details_carry_no_password(client, private_redis, monitoring_token, settings):
    from urllib.parse import urlsplit

    text = client.get("/healthz", **monitoring_token).content.decode()
    redis_password = urlsplit(settings.REDIS_URL).password
    assert redis_password and redis_password not in text
    database_password = connection.settings_dict["PASSWORD"]
    assert not database_password or database_password not in text


@pytest.mark.slow
def test_redis_stopped_answers_503_broker_failed_quickly(client, private_redis, settings, monitoring_token):
    settings.HEALTH_TIMEOUT_SECONDS = 1.0
    control_worker_seen()
    assert client.get("/healthz").status_code == 200
    private_redis.stop()

    started = time.monotonic()
    response = client.get("/healthz", **monitoring_token)
    took = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["parts"]["broker"] == "failed" and body["parts"]["database"] == "ok"
    assert body["parts"]["workers"] == "failed"  # unknown without Redis
    assert "Connection" in body["details"]["broker"]["error"]
    assert took < 10, f"/healthz took {took:.1f} s with Redis stopped"


@pytest.mark.slow
def test_redis_that_hangs_answers_503_within_the_timeout(client, private_redis, settings):
    settings.HEALTH_TIMEOUT_SECONDS = 1.0
    control_worker_seen()
    os.kill(private_redis.process.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        took = time.monotonic() - started
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)
    assert response.status_code == 503 and response.json()["parts"]["broker"] == "failed"
    assert took < 10, f"/healthz took {took:.1f} s with Redis hanging"


@pytest.mark.slow
def test_postgresql_that_hangs_answers_503_within_the_timeout(client, private_redis, settings, monkeypatch):
    """A server that takes the connection and never answers (a frozen PostgreSQL, a half-dead network)."""
    settings.HEALTH_TIMEOUT_SECONDS = 1.0
    control_worker_seen()
    with socket_module.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(16)
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", blackhole.getsockname()[1])
        started = time.monotonic()
        response = client.get("/healthz")
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["parts"]["database"] == "failed" and response.json()["parts"]["broker"] == "ok"
    assert took < 10, f"/healthz took {took:.1f} s with PostgreSQL hanging"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_shows_by_heartbeat_and_is_gone_once_killed(client, monitoring_token):
    name = f"health-{os.getpid()}"
    hostname = f"{name}@{socket.gethostname()}"
    worker = start_worker(name, queues="recognition", env={"WORKER_HEARTBEAT_SECONDS": "1"})

    def recognition_workers():
        details = client.get("/healthz", **monitoring_token).json()["details"]["workers"]
        return [w for w in details["recognition"] if w["name"] == hostname]

    try:
        seen = wait_for(recognition_workers, timeout=60)
        assert seen, "the worker's heartbeat never showed in /healthz"
        assert seen[0]["queues"] == ["recognition"] and seen[0]["slots"] == 1 and seen[0]["busy"] == 0
        assert seen[0]["seen_s_ago"] < 5
    finally:
        kill_group(worker)  # SIGKILL: no clean shutdown removes the heartbeat; it must expire (3 s here)
    assert wait_for(lambda: not recognition_workers(), timeout=30), "a killed worker still shows in /healthz"


def _running(deployment):
    import datetime as dt

    from django.utils import timezone

    from deployments.models import Deployment

    started = timezone.now() - dt.timedelta(minutes=1)
    Deployment.objects.filter(pk=deployment.pk).update(starts_at=started, went_live_at=started)
    return deployment


def test_a_live_camera_that_is_lost_fails_the_cameras_part(client, private_redis, monitoring_token, live_deployment):
    from django.utils import timezone

    from deployments.models import Camera
    from recognition.leases import lease_key

    deployment = _running(live_deployment)
    control_worker_seen()
    worker_heartbeat_write(client=monitoring_redis(), name="gpu@test", queues=["recognition"], slots=1, busy=1)
    camera = deployment.cameras.get()
    monitoring_redis().set(lease_key(deployment_id=deployment.pk, camera_id=camera.pk), "gpu@test:1:x")
    Camera.objects.filter(pk=camera.pk).update(status=Camera.Status.LOST, status_changed_at=timezone.now(),
                                               status_detail="rtsp://u:hunter2@10.1.2.3/s: connection refused")

    anonymous = client.get("/healthz")
    assert anonymous.status_code == 200  # a lost camera does not take the portal out of rotation
    assert anonymous.json() == {"status": "degraded", "parts": {"database": "ok", "broker": "ok", "workers": "ok",
                                                                "cameras": "failed"}}
    details = client.get("/healthz", **monitoring_token).json()["details"]["cameras"]
    assert details["cameras"] == [{"id": camera.pk, "name": camera.name, "deployment": deployment.pk,
                                   "status": "lost", "ok": False}]
    assert len(details["problems"]) == 1 and "connection refused" in details["problems"][0]
    assert "hunter2" not in client.get("/healthz", **monitoring_token).content.decode()

    Camera.objects.filter(pk=camera.pk).update(status=Camera.Status.STREAMING, status_detail="")
    assert client.get("/healthz").json()["parts"]["cameras"] == "ok"


def test_a_live_deployment_without_a_recognition_worker_fails_the_workers_part(client, private_redis,
                                                                                monitoring_token, live_deployment):
    _running(live_deployment)
    control_worker_seen()
    body = client.get("/healthz", **monitoring_token).json()
    assert body["parts"]["workers"] == "failed" and body["parts"]["cameras"] == "failed"
    assert any("No recognition worker" in p for p in body["details"]["workers"]["problems"])


def test_a_load_balancer_probing_over_plain_http_is_not_redirected(client, private_redis, settings):
    settings.SECURE_SSL_REDIRECT = True  # production
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301  # everything else still goes to HTTPS


def waiting_for_a_result(threads) -> int:
    """How many of the threads are blocked in Future.result()."""
    import sys

    frames, waiting = sys._current_frames(), 0
    for thread in threads:
        frame = frames.get(thread.ident)
        while frame is not None:
            if frame.f_code.co_name == "result" and "concurrent/futures" in frame.f_code.co_filename:
                waiting += 1
                break
            frame = frame.f_back
    return waiting


def test_concurrent_probes_share_one_run():
    """Unit: the single-flight around the probe (a fake probe that blocks until every caller has arrived)."""
    import threading

    from monitoring.health import SingleFlight

    flight, calls, release = SingleFlight(), [], threading.Event()

    def probe():
        calls.append(1)
        release.wait(10)
        return {"n": len(calls)}

    results = []
    threads = [threading.Thread(target=lambda: results.append(flight.run(probe))) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert wait_for(lambda: waiting_for_a_result(threads) == 7, timeout=10)  # one probes, seven wait for it
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == [{"n": 1}] * 8 and len(calls) == 1
    assert flight.run(lambda: "next") == "next"  # a later caller runs a fresh probe
