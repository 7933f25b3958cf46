"""API: a camera's source URL in clear, for whoever may edit the camera, and every such read audited."""

import pytest

from audit.models import AuditEvent
from deployments.models import Camera

pytestmark = pytest.mark.django_db

CLEAR = "rtsp://admin:S3cretCamPass@10.0.0.7:554/live"


@pytest.fixture
def camera(detective):
    return Camera.objects.create(name="Gate", source_url=CLEAR, location="Gate B", created_by=detective)


def test_a_planner_reads_the_clear_url_and_the_read_is_audited(api_as, detective, camera):
    response = api_as(detective).get(f"/api/cameras/{camera.pk}/source/")
    assert response.status_code == 200 and response.json() == {"source_url": CLEAR}
    event = AuditEvent.objects.get(action="camera.source_viewed")
    assert event.actor == detective and event.target_type == "deployments.camera" and event.target_id == str(camera.pk)
    assert "S3cretCamPass" not in str(event.details)


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "administrator", "outsider"])
def test_no_other_role_reads_it(request, api_as, camera, role):
    response = api_as(request.getfixturevalue(role)).get(f"/api/cameras/{camera.pk}/source/")
    assert response.status_code == 403 and "S3cretCamPass" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="camera.source_viewed").exists()


def test_an_unknown_camera_is_404_and_not_audited(api_as, detective):
    assert api_as(detective).get("/api/cameras/999999/source/").status_code == 404
    assert not AuditEvent.objects.filter(action="camera.source_viewed").exists()


def test_registering_a_camera_audits_its_masked_source(api_as, detective):
    response = api_as(detective).post("/api/cameras/", {"name": "Gate", "source_url": CLEAR, "location": "Gate B"},
                                      format="json")
    assert response.status_code == 201
    event = AuditEvent.objects.get(action="camera.created")
    assert event.details["source"] == "rtsp://admin:\u2022\u2022\u2022@10.0.0.7:554/live"
