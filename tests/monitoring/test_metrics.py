"""/metrics: protected by the monitoring token (off without one), and real figures after a real camera loop."""

from __future__ import annotations

import cv2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core import metrics as store
from core.metrics import metric_add, metrics_flush
from tests.monitoring_helpers import MONITORING_TOKEN

pytestmark = pytest.mark.django_db


def scrape(client, headers) -> dict[tuple, float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0.0)


def test_metrics_are_off_without_a_token(client, client_as, administrator, settings):
    settings.MONITORING_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client_as(administrator).get("/metrics").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {MONITORING_TOKEN}", "Bearer "])
def test_metrics_need_the_bearer_token(client, monitoring_token, header):
    response = client.get("/metrics", **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_user_without_the_token_gets_no_metrics(client_as, oversight, monitoring_token):
    assert client_as(oversight).get("/metrics").status_code == 401


def test_queue_depth_and_worker_heartbeats(client, private_redis, monitoring_token):
    from core.heartbeat import worker_heartbeat_write
    from core.redis_probe import monitoring_redis

    client_redis = monitoring_redis()
    worker_heartbeat_write(client=client_redis, name="gpu@host-a", queues=["recognition"], slots=2, busy=1)
    client_redis.rpush("recognition", b"{}", b"{}", b"{}")
    client_redis.rpush("default\x06\x163", b"{}")  # kombu's list for priority 3 of the default queue
    samples = scrape(client, monitoring_token)
    assert value(samples, "lfr_queue_length", queue="recognition") == 3
    assert value(samples, "lfr_queue_length", queue="default") == 1
    assert value(samples, "lfr_worker_up", worker="gpu@host-a", queues="recognition") == 1
    assert value(samples, "lfr_worker_busy_slots", worker="gpu@host-a") == 1
    assert value(samples, "lfr_worker_slots", worker="gpu@host-a") == 2
    assert value(samples, "lfr_metrics_store_up") == 1


def test_figures_wait_in_the_process_while_redis_is_down(private_redis, client, monitoring_token, monkeypatch):
    monkeypatch.setattr(store, "_pending", store._Pending())  # this test's own process buffer
    private_redis.stop()
    metric_add("lfr_camera_frames_processed", 5, camera=999001)
    assert metrics_flush() is False
    metric_add("lfr_camera_frames_processed", 2, camera=999001)
    samples = scrape(client, monitoring_token)
    assert value(samples, "lfr_metrics_store_up") == 0  # the scrape still answers, and says so

    private_redis.start()
    store._pending.retry_at = 0  # past the back-off
    assert metrics_flush() is True
    assert value(scrape(client, monitoring_token), "lfr_camera_frames_processed_total", camera=999001) == 7


def live_walk_past(detective, commander, tmp_path, fps: int = 10):
    """A live deployment whose one camera plays a 3 s video of a wanted man walking past."""
    from deployments.services import camera_create, deployment_authorise, deployments_tick
    from recognition.demo_media import walking_face_video
    from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment
    from tests.samples import YAO_MING, YAO_MING_IN_PLAYERS, person_crops

    photo, face = YAO_MING_IN_PLAYERS
    video = walking_face_video(face=cv2.resize(person_crops(photo)[face], None, fx=0.6, fy=0.6),
                               path=tmp_path / "walk.mp4", seconds=3, fps=fps)
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, YAO_MING, reference="PNC-YAO")])
    camera = camera_create(actor=detective, name="Cam M", source_url=str(video), location="Arcade")
    deployment = submitted_deployment(detective, watchlist, [camera])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    return deployment, camera


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_camera_loop_is_counted(client, monitoring_token, detective, commander, settings, tmp_path):
    from alerts.models import Alert
    from recognition.camera_worker import camera_worker_run, worker_name
    from recognition.models import CameraMinuteCount

    settings.CAMERA_FILE_ROOT = tmp_path
    deployment, camera = live_walk_past(detective, commander, tmp_path)
    before = scrape(client, monitoring_token)

    result = camera_worker_run(deployment_id=deployment.pk, realtime=False)

    assert result["reason"] == "ended" and Alert.objects.filter(deployment=deployment).count() == 1
    counts = CameraMinuteCount.objects.filter(deployment=deployment)
    frames, faces, tracks = (sum(getattr(c, f) for c in counts) for f in ("frames", "faces", "tracks"))
    assert frames == result["frames"] == 30
    after = scrape(client, monitoring_token)
    assert value(after, "lfr_camera_frames_processed_total", camera=camera.pk) == frames
    assert value(after, "lfr_camera_faces_total", camera=camera.pk) == faces > 0
    assert value(after, "lfr_camera_tracks_total", camera=camera.pk) == tracks > 0
    assert value(after, "lfr_camera_alerts_total", camera=camera.pk) == 1
    assert value(after, "lfr_camera_frames_dropped_total", camera=camera.pk) == 0  # a file read at its own pace
    assert value(after, "lfr_camera_processing_latency_seconds_count", camera=camera.pk) == frames
    assert value(after, "lfr_camera_processing_latency_seconds_bucket", camera=camera.pk, le="+Inf") == frames
    assert value(after, "lfr_camera_processing_latency_seconds_sum", camera=camera.pk) > 0
    for stage in ("commit", "broadcast"):
        name = "lfr_alert_delivery_latency_seconds_count"
        assert value(after, name, stage=stage) - value(before, name, stage=stage) == 1, stage
    assert ("lfr_alert_spool_size", (("worker", worker_name()),)) in after  # this process ran the loop


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_frames_a_busy_worker_skips_are_counted_as_dropped(client, monitoring_token, detective, commander, settings,
                                                           tmp_path):
    from recognition.camera_worker import camera_worker_run

    settings.CAMERA_FILE_ROOT = tmp_path
    deployment, camera = live_walk_past(detective, commander, tmp_path, fps=50)

    result = camera_worker_run(deployment_id=deployment.pk, realtime=True)  # frames come at 50 fps, as from a camera

    samples = scrape(client, monitoring_token)
    processed = value(samples, "lfr_camera_frames_processed_total", camera=camera.pk)
    dropped = value(samples, "lfr_camera_frames_dropped_total", camera=camera.pk)
    assert processed == result["frames"]
    print(f"processed {processed:.0f}, dropped {dropped:.0f} of 150 frames")
    assert processed + dropped == 150  # every frame the camera produced was processed or counted as dropped
