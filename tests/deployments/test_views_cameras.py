"""Camera pages: the list everyone in operations sees, and the planner's create form."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEvent
from deployments.models import Camera
from deployments.services import camera_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def video_file():
    root = Path(settings.CAMERA_FILE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "views-test-camera.mp4"
    path.write_bytes(b"placeholder")
    return path


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("deployments:cameras"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "oversight"])
def test_the_camera_list_renders_for_operational_roles(request, client_as, detective, role):
    camera_create(actor=detective, name="North gate", source_url="rtsp://10.0.0.5/stream1", location="Gate A")
    response = client_as(request.getfixturevalue(role)).get(reverse("deployments:cameras"))
    assert response.status_code == 200 and "North gate" in response.content.decode()
    assert ("Add a camera" in response.content.decode()) == (role == "detective")


@pytest.mark.parametrize("role", ["administrator", "outsider"])
def test_the_camera_list_is_forbidden_to_other_roles(request, client_as, role):
    assert client_as(request.getfixturevalue(role)).get(reverse("deployments:cameras")).status_code == 403


def test_planner_adds_a_file_camera(client_as, detective, video_file):
    response = client_as(detective).post(reverse("deployments:camera_create"), {
        "name": "Replay", "source_url": str(video_file), "location": "Test bench", "enabled": "on"})
    assert response.status_code == 302 and response.url == reverse("deployments:cameras")
    camera = Camera.objects.get(name="Replay")
    assert camera.source_url == str(video_file.resolve()) and camera.enabled and camera.created_by == detective
    assert AuditEvent.objects.get(action="camera.created").client_ip == "127.0.0.1"


@pytest.mark.parametrize("source, message", [
    ("ftp://cam.example/stream", "ftp:// is not allowed"),
    ("rtsp:///nohost", "has no host"),
    ("/etc/passwd", "video files must be under"),
])
def test_bad_sources_are_refused_with_the_services_message(client_as, detective, source, message):
    response = client_as(detective).post(reverse("deployments:camera_create"), {
        "name": "Bad", "source_url": source, "location": "Nowhere", "enabled": "on"})
    assert response.status_code == 400 and message in response.content.decode()
    assert not Camera.objects.exists()


@pytest.mark.parametrize("role", ["commander", "officer", "oversight"])
def test_only_planners_add_cameras(request, client_as, role):
    response = client_as(request.getfixturevalue(role)).post(reverse("deployments:camera_create"), {
        "name": "X", "source_url": "rtsp://10.0.0.9/s", "location": "Y", "enabled": "on"})
    assert response.status_code == 403 and not Camera.objects.exists()


def test_camera_passwords_are_never_shown(client_as, detective):
    camera_create(actor=detective, name="Secret", source_url="rtsp://admin:hunter2@10.0.0.7:554/live", location="Gate B")
    page = client_as(detective).get(reverse("deployments:cameras")).content.decode()
    assert "hunter2" not in page and "rtsp://admin:\u2022\u2022\u2022@10.0.0.7:554/live" in page


@pytest.mark.parametrize("source", [
    "rtsp://127.0.0.1:6391/cam1\r\nSET k v\r\nCONFIG SET dir /tmp\r\nSAVE",
    "rtsps://10.0.0.5/cam1\r\nSET k v",
    "http://10.0.0.5/cam1\nX-Injected: 1",
    "https://[fd00::5]/cam1%0d%0aSET%20k%20v",
])
def test_the_crlf_attack_through_the_form_is_refused(client_as, detective, source):
    response = client_as(detective).post(reverse("deployments:camera_create"), {
        "name": "Injected", "source_url": source, "location": "Nowhere", "enabled": "on"})
    assert response.status_code == 400 and "control characters" in response.content.decode()
    assert not Camera.objects.exists()


@pytest.mark.parametrize("source", ["rtsp://127.0.0.1:6379/x", "http://localhost:5432/", "https://[::1]/",
                                    "rtsps://169.254.169.254/latest/meta-data/", "http://[::ffff:7f00:1]:6379/"])
def test_internal_destinations_through_the_form_are_refused(client_as, detective, source):
    response = client_as(detective).post(reverse("deployments:camera_create"), {
        "name": "SSRF", "source_url": source, "location": "Nowhere", "enabled": "on"})
    assert response.status_code == 400 and "not in an allowed camera network" in response.content.decode()
    assert not Camera.objects.exists()
