import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent

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
