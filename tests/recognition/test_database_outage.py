"""A camera loop carries on through a PostgreSQL outage (a restart, a network cut): it keeps processing, and
the camera status and the faces and frames it counted meanwhile are written once the database is back.

Real PostgreSQL throughout: the worker's path to it is a TCP forwarder that is cut for real (open connections
reset, new ones refused), as in the alert delivery tests.
"""

from __future__ import annotations

import threading
import time

import cv2
import pytest
from django.db import OperationalError, connection, connections

from deployments.models import Camera, Deployment
from deployments.services import deployment_stop
from recognition.camera_worker import camera_worker_run
from recognition.demo_media import walking_face_video
from recognition.models import CameraMinuteCount
from tests.alerts.tcp_proxy import TcpProxy
from tests.samples import person_image

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
OUTAGE_SECONDS = 4  # several of the loop's once-a-second state checks


def _query(read, default=None):
    """Read through the proxy from the test's own thread, whose connection the cut may have reset."""
    try:
        return read()
    except OperationalError:
        connection.close()
        return default


def _wait_for(predicate, *, timeout: float = 60.0, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _frames_counted(deployment_id: int) -> int:
    return sum(CameraMinuteCount.objects.filter(deployment_id=deployment_id).values_list("frames", flat=True))


def test_a_camera_loop_carries_on_through_a_database_outage_and_writes_what_it_counted(
        settings, tmp_path, live_deployment, commander):
    settings.CAMERA_FILE_ROOT = tmp_path
    camera = live_deployment.cameras.get()
    video = walking_face_video(face=cv2.resize(person_image(0), (120, 150)), path=tmp_path / "loop.mp4",
                               seconds=2, fps=10)
    Camera.objects.filter(pk=camera.pk).update(source_url=str(video), loop_playback=True)
    database = connection.settings_dict
    original = database["HOST"], database["PORT"]
    proxy = TcpProxy((database["HOST"], int(database["PORT"]))).start()
    database["HOST"], database["PORT"] = "127.0.0.1", str(proxy.port)  # the worker thread's connections too
    connection.close()
    result: dict = {}
    errors: list[BaseException] = []

    def work() -> None:
        try:
            result.update(camera_worker_run(deployment_id=live_deployment.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=work, daemon=True)
    try:
        worker.start()
        _wait_for(lambda: _query(lambda: _frames_counted(live_deployment.pk), 0) > 0, what="the first counts")
        proxy.cut()
        time.sleep(OUTAGE_SECONDS)  # the outage itself; what is asserted is what the loop did meanwhile
        assert worker.is_alive() and not errors, f"the camera loop died with the database away: {errors}"
        proxy.restore()
        counted_before_stop = 0

        def streaming_and_counting() -> bool:
            nonlocal counted_before_stop
            status = _query(lambda: Camera.objects.values_list("status", flat=True).get(pk=camera.pk))
            counted_before_stop = _query(lambda: _frames_counted(live_deployment.pk), 0)
            return status == Camera.Status.STREAMING and counted_before_stop > 0

        _wait_for(streaming_and_counting, what="the loop to write to the database again")
        _query(lambda: deployment_stop(actor=commander, deployment=Deployment.objects.get(pk=live_deployment.pk),
                                       reason="test over"))
        worker.join(30)
        assert not worker.is_alive() and not errors
    finally:
        proxy.close()
        database["HOST"], database["PORT"] = original
        connections.close_all()

    assert result["reason"] == "deployment is stopped"
    # Every frame the loop processed is counted, those of the outage included.
    assert _frames_counted(live_deployment.pk) == result["frames"]
