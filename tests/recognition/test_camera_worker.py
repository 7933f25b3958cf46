"""A camera worker over real video: one alert for the wanted man, nothing kept of anyone else."""

from pathlib import Path

import cv2
import pytest
from django.conf import settings

from alerts.models import Alert
from alerts.selectors import alert_spool_size
from audit.models import AuditEvent
from deployments.models import Camera, Deployment
from deployments.services import camera_create, deployment_authorise, deployment_stop, deployments_tick
from recognition.camera_worker import camera_worker_run
from recognition.demo_media import walking_face_video
from recognition.leases import camera_lease_holder
from recognition.models import CameraMinuteCount
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, worker_run_until_lost
from tests.samples import SHARED_DATA, YAO_MING, YAO_MING_IN_PLAYERS, person_crops

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def every_file(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def video_root(settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path / "video"
    settings.CAMERA_FILE_ROOT.mkdir()
    return settings.CAMERA_FILE_ROOT


def go_live(detective, commander, officer, subjects, video: Path) -> Deployment:
    watchlist = approved_watchlist(detective, commander, subjects)
    camera = camera_create(actor=detective, name="Cam A", source_url=str(video), location="Arcade")
    deployment = submitted_deployment(detective, watchlist, [camera])
    deployment.officers.set([officer])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    return Deployment.objects.get(pk=deployment.pk)


@pytest.mark.django_db(transaction=True)  # as a worker runs: each alert commits (its spool entry goes after commit)
def test_wanted_man_walking_past_gives_exactly_one_alert(detective, commander, officer, video_root):
    photo, face = YAO_MING_IN_PLAYERS
    crop = person_crops(photo)[face]
    video = walking_face_video(face=cv2.resize(crop, None, fx=0.6, fy=0.6), path=video_root / "walk.mp4",
                               seconds=3, fps=10)
    yao = enrolled_subject(detective, YAO_MING, reference="PNC-YAO")
    others = [enrolled_subject(detective, i) for i in range(2)]
    deployment = go_live(detective, commander, officer, [yao, *others], video)
    media_before = every_file(Path(settings.PROTECTED_MEDIA_ROOT))

    result = camera_worker_run(deployment_id=deployment.pk)

    assert result["claimed"] == 1 and result["reason"] == "ended"
    alert = Alert.objects.get(deployment=deployment)
    assert alert.subject_reference == "PNC-YAO" and alert.score >= deployment.threshold
    assert alert.threshold == deployment.threshold and alert.model_id == deployment.snapshot.model_id
    assert 0 <= (alert.created_at - alert.frame_time).total_seconds() < 10  # frame_time: when the frame was read
    # The only new file is that alert's face crop.
    assert every_file(Path(settings.PROTECTED_MEDIA_ROOT)) - media_before == {
        Path(settings.PROTECTED_MEDIA_ROOT) / alert.probe_file}
    assert alert_spool_size() == 0  # the spooled match lived only until it was delivered
    counts = CameraMinuteCount.objects.filter(deployment=deployment)
    assert sum(c.frames for c in counts) >= 8 and sum(c.faces for c in counts) >= 8  # realtime: a busy CPU skips frames
    camera = Camera.objects.get(name="Cam A")
    assert camera.status == Camera.Status.IDLE
    assert camera_lease_holder(deployment_id=deployment.pk, camera_id=camera.pk) is None


@pytest.mark.skipif(not (SHARED_DATA / "video" / "facenet_pytorch_video.mp4").is_file(),
                    reason="shared street video absent")
def test_passers_by_who_are_not_wanted_leave_only_counts(detective, commander, officer, video_root):
    street = video_root / "street.mp4"
    street.write_bytes((SHARED_DATA / "video" / "facenet_pytorch_video.mp4").read_bytes())
    deployment = go_live(detective, commander, officer, [enrolled_subject(detective, i) for i in range(3)], street)
    media_before = every_file(Path(settings.PROTECTED_MEDIA_ROOT))
    tables_before = {model: model.objects.count() for model in (Alert, AuditEvent)}

    result = camera_worker_run(deployment_id=deployment.pk, realtime=False)  # every frame, not the latest

    assert result["frames"] == 105
    assert not Alert.objects.exists()
    assert every_file(Path(settings.PROTECTED_MEDIA_ROOT)) == media_before
    counts = CameraMinuteCount.objects.filter(deployment=deployment)
    faces, tracks = sum(c.faces for c in counts), sum(c.tracks for c in counts)
    assert faces > 100  # real pedestrians were seen ...
    assert 0 < tracks < faces  # ... each followed as a track over many frames: about one per passer-by
    new_events = AuditEvent.objects.count() - tables_before[AuditEvent]
    assert new_events == 0  # ... and nothing about them was recorded beyond the per-minute count


@pytest.mark.django_db(transaction=True)
def test_kill_switch_stops_the_worker_within_seconds(detective, commander, officer, video_root):
    import threading
    import time

    from django.db import connection

    video = walking_face_video(face=person_crops("t1")[1], path=video_root / "loop.mp4", seconds=2, fps=10)
    deployment = go_live(detective, commander, officer, [enrolled_subject(detective, 0)], video)
    Camera.objects.update(loop_playback=True)
    outcome = {}

    def work():
        try:
            outcome.update(camera_worker_run(deployment_id=deployment.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(4)
    assert thread.is_alive(), "a looping camera keeps the worker busy until it is stopped"
    stopped_at = time.monotonic()
    deployment_stop(actor=commander, deployment=deployment, reason="kill switch test")
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - stopped_at < 5
    assert outcome["reason"] == "deployment is stopped"


@pytest.mark.django_db(transaction=True)
def test_a_lost_stream_is_retried_and_shown_as_the_camera_status(settings, detective, commander, officer, video_root):
    from config.embedded import free_port

    settings.CAMERA_ALLOWED_NETWORKS = "127.0.0.1/32"  # the dead camera is on this host
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    camera = camera_create(actor=detective, name="Dead camera", source_url=f"rtsp://127.0.0.1:{free_port()}/live",
                           location="Car park")
    deployment = submitted_deployment(detective, watchlist, [camera])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    camera = worker_run_until_lost(deployment, camera, commander)
    assert camera.status == Camera.Status.LOST, camera.status
    assert "127.0.0.1" in camera.status_detail
