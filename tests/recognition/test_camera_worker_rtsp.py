"""The camera worker on a real RTSP camera (bench/rtsp_server.py): what an operator sees in the camera status."""

from __future__ import annotations

import logging

import pytest

from bench.rtsp_server import RtspServer
from deployments.models import Camera
from deployments.services import camera_create, deployment_authorise, deployments_tick
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, worker_run_until
from tests.recognition.stream_servers import require_rtsp_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gate-A:p@ss/1"


@pytest.fixture
def rtsp_camera():
    require_rtsp_server()
    with RtspServer(width=320, height=240, fps=10, user="officer", password=PASSWORD) as server:
        yield server


def test_the_worker_streams_the_right_credentials_and_names_the_wrong_ones_without_showing_them(
        settings, detective, commander, rtsp_camera, caplog):
    caplog.set_level(logging.DEBUG)
    settings.CAMERA_ALLOWED_NETWORKS = f"127.0.0.1/32:{rtsp_camera.port}"
    right = camera_create(actor=detective, name="Gate A", source_url=rtsp_camera.url(), location="North gate")
    wrong = camera_create(actor=detective, name="Gate B", location="South gate",
                          source_url=rtsp_camera.url().replace("p%40ss", "guess"))
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    deployment = submitted_deployment(detective, watchlist, [right, wrong])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)

    def both_settled() -> bool:
        right.refresh_from_db()
        wrong.refresh_from_db()
        return right.status == Camera.Status.STREAMING and wrong.status == Camera.Status.LOST

    worker_run_until(deployment, commander, until=both_settled, timeout=60)
    assert right.status == Camera.Status.STREAMING, right.status_detail
    assert wrong.status == Camera.Status.LOST
    assert "the camera refused the user name or password in the URL (RTSP 401)" in wrong.status_detail
    assert "retrying in" in wrong.status_detail
    shown = [right.status_detail, wrong.status_detail] + [record.getMessage() for record in caplog.records]
    assert not [text for text in shown if "p@ss" in text or "p%40ss" in text or "guess" in text]
