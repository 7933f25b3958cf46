"""The deployment page (and API) says why a deployment that should be live is not running as authorised."""

from __future__ import annotations

import datetime as dt
import html
import re
import time

import pytest
from django.utils import timezone

from core.heartbeat import JOB_PREFIX, WINDOW_CHECK_JOB, worker_heartbeat_write
from core.redis_probe import monitoring_redis
from deployments.models import Camera, Deployment
from recognition.leases import lease_key

# every test here has its own Redis (private_redis): no stray heartbeats
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_redis")]


def heartbeat(name: str, queues: list[str], *, slots: int = 2, busy: int = 0) -> None:
    worker_heartbeat_write(client=monitoring_redis(), name=name, queues=queues, slots=slots, busy=busy)


def window_check_ran(seconds_ago: float = 0) -> None:
    monitoring_redis().set(JOB_PREFIX + WINDOW_CHECK_JOB, repr(time.time() - seconds_ago))


def reasons_on_page(client, deployment) -> dict[str, str]:
    page = client.get(f"/deployments/{deployment.pk}/")
    assert page.status_code == 200
    section = re.search(r'<section[^>]*data-testid="not-live-reasons".*?</section>', page.content.decode(), re.DOTALL)
    if section is None:
        return {}
    items = re.findall(r'<li class="problem" data-code="([a-z_]+)">(.*?)</li>', section.group(0), re.DOTALL)
    return {code: html.unescape(text) for code, text in items}


@pytest.fixture
def overdue_authorised(detective, commander):
    """Authorised, its window opened a minute ago, and still not live."""
    from deployments.services import deployment_authorise
    from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera

    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    deployment = submitted_deployment(detective, watchlist, [video_camera(detective)])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    Deployment.objects.filter(pk=deployment.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=1))
    return Deployment.objects.get(pk=deployment.pk)


@pytest.fixture
def running(live_deployment):
    """Live for a minute: its camera should have been claimed and streaming by now."""
    started = timezone.now() - dt.timedelta(minutes=1)
    Deployment.objects.filter(pk=live_deployment.pk).update(starts_at=started, went_live_at=started)
    return Deployment.objects.get(pk=live_deployment.pk)


def test_authorised_with_no_control_worker(client_as, commander, overdue_authorised):
    reasons = reasons_on_page(client_as(commander), overdue_authorised)
    assert set(reasons) == {"window_not_opened", "no_control_worker"}
    assert "has not gone live" in reasons["window_not_opened"]


def test_authorised_with_a_busy_control_worker_and_no_window_check(client_as, commander, overdue_authorised):
    heartbeat("lfr@host", ["default", "recognition"], slots=2, busy=2)
    window_check_ran(seconds_ago=120)
    reasons = reasons_on_page(client_as(commander), overdue_authorised)
    assert set(reasons) == {"window_not_opened", "control_worker_busy", "window_check_late"}
    assert "2 of 2" in reasons["control_worker_busy"]
    assert "120 s ago" in reasons["window_check_late"]


def test_authorised_before_its_window_shows_nothing(client_as, commander, overdue_authorised):
    Deployment.objects.filter(pk=overdue_authorised.pk).update(starts_at=timezone.now() + dt.timedelta(minutes=5))
    assert reasons_on_page(client_as(commander), overdue_authorised) == {}


def test_live_with_no_recognition_worker_and_its_camera_unclaimed(client_as, officer, running):
    heartbeat("control@host", ["default"])
    window_check_ran()
    reasons = reasons_on_page(client_as(officer), running)  # assigned officers see it too
    assert set(reasons) == {"no_recognition_worker", "camera_unclaimed"}
    assert "Camera 1" in reasons["camera_unclaimed"] and "no lease" in reasons["camera_unclaimed"]


def test_live_with_every_recognition_slot_busy(client_as, commander, running):
    heartbeat("control@host", ["default"])
    heartbeat("gpu@host", ["recognition"], slots=1, busy=1)
    reasons = reasons_on_page(client_as(commander), running)
    assert set(reasons) == {"recognition_workers_full", "camera_unclaimed"}


def test_a_lost_camera_with_its_status_and_no_password(client_as, commander, running):
    heartbeat("gpu@host", ["recognition"], slots=2, busy=1)
    camera = running.cameras.get()
    monitoring_redis().set(lease_key(deployment_id=running.pk, camera_id=camera.pk), "gpu@host:1:abc")
    Camera.objects.filter(pk=camera.pk).update(
        status=Camera.Status.LOST, status_changed_at=timezone.now(),
        status_detail="rtsp://cam:s3cret-pass@10.0.0.5:554/live: no frame; reconnecting in 4 s")
    reasons = reasons_on_page(client_as(commander), running)
    assert set(reasons) == {"camera_lost"}
    assert "10.0.0.5" in reasons["camera_lost"] and "reconnecting in 4 s" in reasons["camera_lost"]
    assert "s3cret-pass" not in client_as(commander).get(f"/deployments/{running.pk}/").content.decode()


def test_a_claimed_streaming_camera_shows_nothing(client_as, commander, running):
    heartbeat("gpu@host", ["recognition"])
    camera = running.cameras.get()
    monitoring_redis().set(lease_key(deployment_id=running.pk, camera_id=camera.pk), "gpu@host:1:abc")
    Camera.objects.filter(pk=camera.pk).update(status=Camera.Status.STREAMING, status_changed_at=timezone.now())
    assert reasons_on_page(client_as(commander), running) == {}


def test_a_window_that_should_have_closed(client_as, commander, running):
    heartbeat("control@host", ["default"])
    window_check_ran(seconds_ago=600)
    Deployment.objects.filter(pk=running.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=2))
    reasons = reasons_on_page(client_as(commander), running)
    assert set(reasons) == {"window_not_closed", "window_check_late"}
    assert "still live" in reasons["window_not_closed"]


def test_redis_down_is_said_so(client_as, commander, running, private_redis):
    private_redis.stop()
    assert set(reasons_on_page(client_as(commander), running)) == {"broker_unreachable"}


def test_the_api_gives_the_same_reasons(api_as, commander, running):
    heartbeat("control@host", ["default"])
    response = api_as(commander).get(f"/api/deployments/{running.pk}/")
    assert response.status_code == 200, response.content
    assert {r["code"] for r in response.json()["not_live_reasons"]} == {"no_recognition_worker", "camera_unclaimed"}
    camera_reason = next(r for r in response.json()["not_live_reasons"] if r["code"] == "camera_unclaimed")
    assert camera_reason["camera_id"] == running.cameras.get().pk
