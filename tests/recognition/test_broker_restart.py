"""A Redis restart with a camera loop running: the camera worker stays up, keeps its camera and takes new work."""

import time

import numpy as np
import pytest

from config.launcher import worker_commands
from deployments.models import Camera
from deployments.services import camera_create, deployment_authorise, deployments_tick
from recognition.demo_media import walking_face_video
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from tests.worker_processes import broker, lease_holder, start_process, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_AWAY_SECONDS = 12  # what was seen in the field


def live_deployment(detective, commander, watchlist, camera):
    deployment = submitted_deployment(detective, watchlist, [camera], name=camera.name)
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    deployments_tick(now=deployment.starts_at)
    return deployment


def streaming_camera(detective, root):
    """A camera that streams steadily (a looped street scene with nobody in it): its status does not change
    while Redis is away, and it raises no alert."""
    nobody = np.full((150, 120, 3), 128, np.uint8)
    video = walking_face_video(face=nobody, path=root / "street.mp4", seconds=2, fps=8, size=(640, 360))
    camera = camera_create(actor=detective, name="Camera North", source_url=str(video), location="High Street")
    Camera.objects.filter(pk=camera.pk).update(loop_playback=True)
    return camera


def test_camera_worker_survives_a_redis_restart_and_keeps_consuming(detective, commander, private_redis, tmp_path,
                                                                   settings):
    settings.CAMERA_FILE_ROOT = tmp_path
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    first_camera = streaming_camera(detective, tmp_path)
    first = live_deployment(detective, commander, watchlist, first_camera)
    second_camera = video_camera(detective, name="Camera South")  # it never opens: the loop keeps retrying
    second = live_deployment(detective, commander, watchlist, second_camera)
    url = private_redis.url
    # Two slots: one runs the camera loop, the other is free (an outstanding BRPOP), as in `lfr up`.
    worker = start_process("cameras", worker_commands(control_concurrency=1, camera_concurrency=2)["cameras"],
                           redis_url=url, log_dir=tmp_path, CAMERA_FILE_ROOT=str(tmp_path))
    client = broker(url)
    try:
        client.send_task("recognition.tasks.camera_worker_task", args=[first.pk])
        holder = wait_until(lambda: lease_holder(url, deployment_id=first.pk, camera_id=first_camera.pk),
                            timeout=180, what="the camera loop claiming its camera", processes=[worker])
        wait_until(lambda: Camera.objects.get(pk=first_camera.pk).status == Camera.Status.STREAMING,
                   timeout=120, what="the camera streaming", processes=[worker])

        private_redis.stop()
        time.sleep(REDIS_AWAY_SECONDS)  # the fault itself, not a wait for a result
        private_redis.start()

        client.send_task("recognition.tasks.camera_worker_task", args=[second.pk])
        wait_until(lambda: lease_holder(url, deployment_id=second.pk, camera_id=second_camera.pk),
                   timeout=120, what="the worker taking a new task after the restart", processes=[worker])
        assert worker.alive(), worker.log()
        # The camera loop that ran through the restart still holds its camera, renewing the same lease.
        wait_until(lambda: lease_holder(url, deployment_id=first.pk, camera_id=first_camera.pk) == holder,
                   timeout=30, what="the first camera loop keeping its lease", processes=[worker])
        assert "Unrecoverable error" not in worker.log()
    finally:
        worker.stop()
        client.close()
