"""GET /api/alerts/<id>/images/probe and .../reference: an alert's two images, read through
alerts.services.alert_image_read (every read audited, a missing file too), served by core.images."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from watchlists.models import ReferenceImage

pytestmark = pytest.mark.django_db


def _url(alert, image):
    return reverse(f"api:alert-image-{image}", kwargs={"pk": alert.pk})


@pytest.mark.parametrize("image", ["probe", "reference"])
@pytest.mark.parametrize("role", ["officer", "commander", "oversight"])
def test_those_who_see_the_alert_get_the_image_audited_and_never_cached(request, api_as, raise_alert, image, role):
    alert = raise_alert()
    user = request.getfixturevalue(role)
    response = api_as(user).get(_url(alert, image), HTTP_ACCEPT="image/*", REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 200
    stored = (alert.probe_file if image == "probe"
              else ReferenceImage.objects.get(pk=alert.reference_image_id).file_name)
    assert response.content == (Path(settings.PROTECTED_MEDIA_ROOT) / stored).read_bytes()
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private" and response["Pragma"] == "no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="alert-{alert.pk}-{image}"'
    event = AuditEvent.objects.get(action="alert.viewed")
    assert event.actor == user and event.target_id == str(alert.pk) and event.client_ip == "192.0.2.9"
    assert event.deployment_id == alert.deployment_id and event.details == {"image": image}


@pytest.mark.parametrize("image", ["probe", "reference"])
def test_an_unassigned_officer_finds_no_image(api_as, make_user, raise_alert, image):
    alert = raise_alert()
    response = api_as(make_user(Role.OFFICER)).get(_url(alert, image))
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert not AuditEvent.objects.filter(action="alert.viewed").exists()


@pytest.mark.parametrize("image", ["probe", "reference"])
@pytest.mark.parametrize("role", ["detective", "administrator", "outsider"])
def test_roles_without_alerts_are_refused_in_json(request, api_as, raise_alert, image, role):
    alert = raise_alert()
    response = api_as(request.getfixturevalue(role)).get(_url(alert, image), HTTP_ACCEPT="image/*")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert not AuditEvent.objects.filter(action="alert.viewed").exists()


def test_a_purged_watchlist_image_is_410_and_not_audited(api_as, officer, raise_alert):
    alert = raise_alert()
    ReferenceImage.objects.filter(pk=alert.reference_image_id).update(status=ReferenceImage.Status.PURGED)
    response = api_as(officer).get(_url(alert, "reference"), HTTP_ACCEPT="image/*")
    assert response.status_code == 410 and response["Content-Type"] == "application/json"
    assert response.json() == {"errors": ["the watchlist image has since been purged"]}
    assert not AuditEvent.objects.filter(action="alert.viewed").exists()


def test_a_missing_file_is_410_and_the_attempt_is_audited(api_as, officer, raise_alert):
    alert = raise_alert()
    (Path(settings.PROTECTED_MEDIA_ROOT) / alert.probe_file).unlink()  # lost from storage, the row kept
    response = api_as(officer).get(_url(alert, "probe"))
    assert response.status_code == 410
    assert response.json()["errors"][0].startswith(f"the camera image of alert {alert.pk} is missing")
    event = AuditEvent.objects.get(action="alert.viewed")
    assert event.actor == officer and event.details == {"image": "probe", "file_missing": True}
