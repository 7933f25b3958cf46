"""Camera sources (stream URLs, file paths) are shown only to those who manage cameras (planners); everyone
else who sees cameras gets their name and location, on the pages and in the API."""

import pytest
from django.urls import reverse

from deployments.models import Camera
from deployments.services import camera_create
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment

pytestmark = pytest.mark.django_db

SOURCE = "rtsp://admin:S3cretCamPass@10.0.0.7:554/live"
HOST = "10.0.0.7"


@pytest.fixture
def gate(detective):
    camera = camera_create(actor=detective, name="North gate", source_url=SOURCE, location="Gate B")
    Camera.objects.filter(pk=camera.pk).update(status=Camera.Status.LOST,
                                               status_detail=f"cannot open rtsp://admin:***@{HOST}:554/live: refused")
    return camera


@pytest.mark.parametrize("role", ["commander", "officer", "oversight"])
def test_the_camera_page_shows_others_the_name_and_location_only(request, client_as, gate, role):
    page = client_as(request.getfixturevalue(role)).get(reverse("deployments:cameras")).content.decode()
    assert "North gate" in page and "Gate B" in page
    assert HOST not in page and "rtsp://" not in page and 'data-testid="camera-source"' not in page
    assert "the camera source" in page  # the stream error stays, without the address


def test_the_planner_sees_the_masked_source_and_the_full_status(client_as, detective, gate):
    page = client_as(detective).get(reverse("deployments:cameras")).content.decode()
    assert "rtsp://admin:\u2022\u2022\u2022@10.0.0.7:554/live" in page and "S3cretCamPass" not in page
    assert f"rtsp://admin:***@{HOST}:554/live: refused" in page


@pytest.mark.parametrize("role", ["commander", "officer", "oversight"])
def test_the_api_gives_others_no_source(request, api_as, gate, role):
    client = api_as(request.getfixturevalue(role))
    detail = client.get(f"/api/cameras/{gate.pk}/")
    listing = client.get("/api/cameras/")
    assert detail.status_code == 200 and listing.status_code == 200
    body = detail.json()
    assert body["name"] == "North gate" and body["location"] == "Gate B" and body["source_url"] is None
    assert listing.json()["results"][0]["source_url"] is None
    assert HOST not in detail.content.decode() + listing.content.decode()
    assert client.get(f"/api/cameras/{gate.pk}/source/").status_code == 403


def test_the_api_gives_the_planner_the_masked_source(api_as, detective, gate):
    body = api_as(detective).get(f"/api/cameras/{gate.pk}/").json()
    assert body["source_url"] == "rtsp://admin:\u2022\u2022\u2022@10.0.0.7:554/live"


def test_an_assigned_officer_sees_the_deployments_cameras_without_sources(client_as, api_as, detective, commander,
                                                                          officer, gate):
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    deployment = submitted_deployment(detective, watchlist, [gate])
    deployment.officers.set([officer])
    page = client_as(officer).get(reverse("deployments:detail", args=[deployment.pk])).content.decode()
    assert "North gate" in page and HOST not in page and "rtsp://" not in page
    api = api_as(officer).get(f"/api/deployments/{deployment.pk}/").content.decode()
    assert "North gate" in api and HOST not in api
