"""API: cameras (register with a validated source, list, read)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from deployments.models import Camera

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path
    path = tmp_path / "high-street.mp4"
    path.write_bytes(b"placeholder video")
    return path


def test_detective_registers_a_file_camera(api_as, detective, video):
    response = api_as(detective).post("/api/cameras/", {"name": "Cam 1", "source_url": "high-street.mp4",
                                                        "location": "High Street, north"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source_url"] == str(video.resolve()) and body["enabled"] is True and body["status"] == "idle"
    assert body["created_by"] == detective.username and response["Location"] == f"/api/cameras/{body['id']}/"
    assert AuditEvent.objects.filter(action="camera.created", actor=detective).exists()


@pytest.mark.parametrize("source, message", [
    ("/etc/passwd", "video files must be under"),
    ("missing.mp4", "no video file at"),
    ("ftp://camera.example/stream", "ftp:// is not allowed"),
    ("rtsp:///no-host", "has no host"),
])
def test_camera_sources_are_validated(api_as, detective, video, source, message):
    response = api_as(detective).post("/api/cameras/", {"name": "Cam", "source_url": source, "location": "L"},
                                      format="json")
    assert response.status_code == 400 and message in response.json()["errors"][0]
    assert not Camera.objects.exists()


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "outsider"])
def test_only_planners_register_cameras(request, api_as, video, role):
    response = api_as(request.getfixturevalue(role)).post(
        "/api/cameras/", {"name": "Cam", "source_url": "rtsp://10.0.0.5/stream", "location": "L"}, format="json")
    assert response.status_code == 403 and not Camera.objects.exists()


def test_cameras_are_listed_to_deployment_viewers_with_bounded_queries(api_as, detective, officer,
                                                                      administrator, django_assert_max_num_queries):
    Camera.objects.bulk_create([Camera(name=f"Cam {i:02d}", source_url=f"rtsp://10.0.0.{i}/s", location="L",
                                       created_by=detective) for i in range(3)])
    client = api_as(officer)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/cameras/").json()["count"] == 3
    Camera.objects.bulk_create([Camera(name=f"Cam {i:02d}", source_url=f"rtsp://10.0.1.{i}/s", location="L",
                                       created_by=detective) for i in range(3, 80)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/api/cameras/").json()
    assert page["count"] == 80 and len(page["results"]) == 50
    assert page["results"][0]["created_by"] == detective.username

    camera = Camera.objects.first()
    assert client.get(f"/api/cameras/{camera.pk}/").json()["name"] == camera.name
    assert client.get("/api/cameras/999999/").status_code == 404
    assert api_as(administrator).get("/api/cameras/").status_code == 403
