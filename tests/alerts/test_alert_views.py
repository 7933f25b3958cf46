from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from watchlists.models import ReferenceImage

pytestmark = pytest.mark.django_db


def test_probe_and_reference_images_need_access_and_are_audited(client_as, officer, make_user, raise_alert):
    alert = raise_alert()
    client = client_as(officer)
    probe = client.get(reverse("alerts:probe_image", args=[alert.pk]))
    assert probe.status_code == 200 and probe["Content-Type"] == "image/jpeg"
    assert probe["Cache-Control"] == "no-store, private"
    assert client.get(reverse("alerts:reference_image", args=[alert.pk])).status_code == 200
    assert AuditEvent.objects.filter(action="alert.viewed", actor=officer).count() == 2

    stranger = client_as(make_user(Role.OFFICER))
    assert stranger.get(reverse("alerts:probe_image", args=[alert.pk])).status_code == 404


def test_live_page_for_assigned_officer_only(client_as, officer, make_user, outsider, live_deployment):
    page = client_as(officer).get(reverse("alerts:live", args=[live_deployment.pk]))
    assert page.status_code == 200 and b'data-access="adjudicate"' in page.content
    assert client_as(make_user(Role.OFFICER)).get(reverse("alerts:live", args=[live_deployment.pk])).status_code == 404
    assert client_as(outsider).get(reverse("alerts:live", args=[live_deployment.pk])).status_code == 403


def test_adjudicate_endpoint(client_as, officer, raise_alert):
    alert = raise_alert()
    client = client_as(officer)
    url = reverse("alerts:adjudicate", args=[alert.pk])
    bad = client.post(url, {"decision": "maybe"}, content_type="application/json")
    assert bad.status_code == 400 and "decision must be one of" in bad.json()["errors"][0]
    good = client.post(url, {"decision": "not_a_match", "notes": "different person", "version": alert.version},
                       content_type="application/json")
    assert good.status_code == 200 and good.json()["alert"]["status"] == "not_a_match"


@pytest.mark.parametrize("after", ["abc", "-1", "1e3", str(2**63)])
def test_catch_up_with_a_bad_after_is_400(client_as, officer, live_deployment, after):
    response = client_as(officer).get(reverse("alerts:deployment_alerts_json", args=[live_deployment.pk]),
                                      {"after": after})
    assert response.status_code == 400


def test_catch_up_json_is_bounded_in_queries(client_as, officer, raise_alert, django_assert_max_num_queries):
    for i in range(6):
        raise_alert(i % 2)
    client = client_as(officer)
    deployment_id = officer.assigned_deployments.get().pk
    with django_assert_max_num_queries(14):
        response = client.get(reverse("alerts:deployment_alerts_json", args=[deployment_id]))
    assert len(response.json()["alerts"]) == 6


@pytest.mark.parametrize("view, file_of, what", [
    ("alerts:probe_image", lambda alert: alert.probe_file, "the camera image"),
    ("alerts:reference_image", lambda alert: ReferenceImage.objects.get(pk=alert.reference_image_id).file_name,
     "the watchlist image"),
], ids=["probe", "reference"])
def test_a_missing_image_file_is_410_with_a_clear_message_and_the_attempt_is_audited(client_as, officer, raise_alert,
                                                                                    view, file_of, what):
    alert = raise_alert()
    (Path(settings.PROTECTED_MEDIA_ROOT) / file_of(alert)).unlink()  # lost from storage, the row kept
    response = client_as(officer).get(reverse(view, args=[alert.pk]))
    assert response.status_code == 410 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith(f"{what} of alert {alert.pk} is missing from protected storage")
    event = AuditEvent.objects.get(action="alert.viewed")
    assert event.actor == officer and event.details == {"image": view.split(":")[1].split("_")[0],
                                                        "file_missing": True}


def test_a_purged_watchlist_image_is_410_and_not_audited(client_as, officer, raise_alert):
    alert = raise_alert()
    ReferenceImage.objects.filter(pk=alert.reference_image_id).delete()
    response = client_as(officer).get(reverse("alerts:reference_image", args=[alert.pk]))
    assert response.status_code == 410 and response.content == b"the watchlist image has since been purged"
    assert not AuditEvent.objects.filter(action="alert.viewed").exists()
