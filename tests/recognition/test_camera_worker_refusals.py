"""A camera worker checks each stored camera URL again when it opens it: rows written before the rules
(or edited in the database) are refused, and nothing is sent to where they point."""

import socket
import threading

import pytest

from deployments.models import Camera, Deployment
from deployments.services import deployment_authorise, deployments_tick
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, worker_run_until_lost

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listener():
    """A TCP service on this host (standing in for the broker) that records every connection's bytes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    received, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                peer = server.accept()[0]
            except OSError:
                continue
            peer.settimeout(1)
            try:
                received.append(peer.recv(65536))
            except OSError:
                received.append(b"")
            peer.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join(2)
    server.close()


def live_with_stored_url(detective, commander, stored_url: str) -> tuple[Deployment, Camera]:
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    # As written before the checks existed: straight into the table.
    camera = Camera.objects.create(name="Old row", source_url=stored_url, location="Car park", created_by=detective)
    deployment = submitted_deployment(detective, watchlist, [camera])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    return Deployment.objects.get(pk=deployment.pk), camera


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_a_stored_url_with_crlf_lines_is_refused_and_nothing_reaches_its_host(settings, detective, commander,
                                                                            listener, scheme):
    port, received = listener
    settings.CAMERA_ALLOWED_NETWORKS = f"127.0.0.1/32:{port}"  # only the URL's own form can refuse it now
    deployment, camera = live_with_stored_url(
        detective, commander, f"{scheme}://127.0.0.1:{port}/cam1\r\nSET k v\r\nCONFIG SET dir /tmp\r\nSAVE\r\n")
    camera = worker_run_until_lost(deployment, camera, commander)
    assert camera.status == Camera.Status.LOST and "refused" in camera.status_detail
    assert "control characters" in camera.status_detail and "\r" not in camera.status_detail
    assert received == []


def test_a_stored_url_to_the_broker_is_refused_under_the_default_networks(detective, commander, listener):
    port, received = listener
    deployment, camera = live_with_stored_url(detective, commander, f"rtsp://127.0.0.1:{port}/cam1")
    camera = worker_run_until_lost(deployment, camera, commander)
    assert camera.status == Camera.Status.LOST and "not in an allowed camera network" in camera.status_detail
    assert received == []


def test_a_stored_url_of_an_unknown_scheme_is_refused_without_stopping_the_worker(detective, commander):
    deployment, camera = live_with_stored_url(detective, commander, "gopher://10.0.0.5:6379/_SET%20k%20v")
    camera = worker_run_until_lost(deployment, camera, commander)
    assert camera.status == Camera.Status.LOST and "gopher" in camera.status_detail
