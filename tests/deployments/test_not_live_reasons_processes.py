"""With real processes: a live deployment's page is quiet while a recognition worker streams its camera, and
says why once that worker is killed (its heartbeat and its camera lease lapse)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from deployments.models import Camera, Deployment
from deployments.services import camera_create, deployment_authorise, deployment_stop, deployments_tick
from recognition.demo_media import walking_face_video
from recognition.tasks import cameras_supervise_task
from tests.deployments.test_not_live_reasons import reasons_on_page
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment
from tests.monitoring_helpers import kill_group, start_worker, wait_for
from tests.samples import person_crops

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_page_names_a_killed_recognition_worker(client_as, detective, commander, settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path
    video = walking_face_video(face=person_crops("t1")[1], path=tmp_path / "loop.mp4", seconds=2, fps=8)
    camera = camera_create(actor=detective, name="Cam R", source_url=str(video), location="Square")
    Camera.objects.filter(pk=camera.pk).update(loop_playback=True)
    deployment = submitted_deployment(detective, approved_watchlist(detective, commander,
                                                                    [enrolled_subject(detective, 0)]), [camera])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    started = timezone.now() - dt.timedelta(minutes=1)  # live for a minute: past the start-up grace
    Deployment.objects.filter(pk=deployment.pk).update(starts_at=started, went_live_at=started)
    client = client_as(commander)

    worker = start_worker(f"why-{os.getpid()}", queues="recognition",
                          env={"WORKER_HEARTBEAT_SECONDS": "1", "CAMERA_LEASE_SECONDS": "3",
                               "CAMERA_FILE_ROOT": str(tmp_path), "CAMERA_WORKER_CAPACITY": "1",
                               "INFERENCE_THREADS": "1"})
    try:
        def streaming_and_quiet():
            cameras_supervise_task()  # what beat does every 5 s: hand the camera to a free worker
            status = Camera.objects.get(pk=camera.pk).status
            return status == Camera.Status.STREAMING and reasons_on_page(client, deployment) == {}

        assert wait_for(streaming_and_quiet, timeout=120, every=1), reasons_on_page(client, deployment)
    finally:
        kill_group(worker)  # SIGKILL: nothing is cleaned up, the heartbeat and the lease must lapse

    expected = {"no_recognition_worker", "camera_unclaimed"}

    def named():
        reasons = reasons_on_page(client, deployment)
        return reasons if expected <= set(reasons) else None

    reasons = wait_for(named, timeout=30)
    assert reasons, reasons_on_page(client, deployment)
    assert "Cam R" in reasons["camera_unclaimed"] and "last status streaming" in reasons["camera_unclaimed"]
    deployment_stop(actor=commander, deployment=Deployment.objects.get(pk=deployment.pk), reason="test over")
