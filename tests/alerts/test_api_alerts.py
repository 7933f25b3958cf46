"""GET /api/deployments/<id>/alerts/ and /api/alerts/<id>/: a deployment's alerts and one alert, for those who
see the deployment's alerts (its assigned officers; commanders and oversight, who watch)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from alerts.services import alert_adjudicate, alert_engagement_record
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _list(deployment, **query):
    return reverse("api:deployment-alerts", kwargs={"pk": deployment.pk}), query


def test_an_assigned_officer_lists_the_deployments_alerts_oldest_first(api_as, officer, live_deployment,
                                                                        raise_alert):
    first, second = raise_alert(0), raise_alert(1)
    alert_adjudicate(actor=officer, alert=first, decision="not_a_match", notes="different person")
    response = api_as(officer).get(*_list(live_deployment))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2 and [a["id"] for a in body["results"]] == [first.pk, second.pk]
    decided = body["results"][0]
    assert decided["deployment"] == live_deployment.pk and decided["status"] == "not_a_match"
    assert decided["camera"] == {"id": first.camera_id, "name": first.camera.name, "location": first.camera.location}
    assert decided["subject"]["reference"] == "PNC-0000" and decided["subject"]["name"] == "Subject 0"
    assert decided["test"] is False and decided["version"] == 2
    assert decided["probe_image"] == reverse("api:alert-image-probe", kwargs={"pk": first.pk})
    assert decided["reference_image"] == reverse("api:alert-image-reference", kwargs={"pk": first.pk})
    (adjudication,) = decided["adjudications"]
    assert adjudication["officer"] == officer.username and adjudication["decision"] == "not_a_match"
    assert adjudication["notes"] == "different person"
    assert not AuditEvent.objects.filter(action="alert.viewed").exists()  # listing is not an image read


def test_after_id_gives_only_the_newer_alerts(api_as, officer, live_deployment, raise_alert):
    first, second = raise_alert(0), raise_alert(1)
    response = api_as(officer).get(*_list(live_deployment, after_id=first.pk))
    assert [a["id"] for a in response.json()["results"]] == [second.pk]


@pytest.mark.parametrize("after_id", ["abc", "-1", "1e3", str(2**63)])
def test_a_bad_after_id_is_a_400_naming_it(api_as, officer, live_deployment, after_id):
    response = api_as(officer).get(*_list(live_deployment, after_id=after_id))
    assert response.status_code == 400 and "after_id" in response.json()


def test_the_list_is_bounded_in_queries(api_as, officer, make_user, live_deployment, raise_alert,
                                        django_assert_max_num_queries):
    colleague = make_user(Role.OFFICER)
    live_deployment.officers.add(colleague)
    for i in range(8):
        alert = raise_alert(i % 2)
        alert_adjudicate(actor=officer if i % 2 else colleague, alert=alert, decision="cannot_tell")
    client = api_as(officer)
    url, _ = _list(live_deployment)
    client.get(url)  # the session and MFA device are read once per client, like any first request
    # Session, user and capabilities (5), the deployment and its assignment (2), the page's count, the alerts
    # with their cameras, their adjudications with their officers (3), the session saved (3): not one per alert.
    with django_assert_max_num_queries(13):
        response = client.get(url)
    assert response.json()["count"] == 8 and all(len(a["adjudications"]) == 1 for a in response.json()["results"])


@pytest.mark.parametrize("role", ["commander", "oversight"])
def test_those_who_watch_see_the_alerts_too(request, api_as, role, live_deployment, raise_alert):
    alert = raise_alert()
    client = api_as(request.getfixturevalue(role))
    assert [a["id"] for a in client.get(*_list(live_deployment)).json()["results"]] == [alert.pk]
    assert client.get(reverse("api:alert-detail", kwargs={"pk": alert.pk})).json()["id"] == alert.pk


def test_an_unassigned_officer_finds_neither_the_list_nor_the_alert(api_as, make_user, live_deployment,
                                                                    raise_alert):
    alert = raise_alert()
    client = api_as(make_user(Role.OFFICER))
    assert client.get(*_list(live_deployment)).status_code == 404
    assert client.get(reverse("api:alert-detail", kwargs={"pk": alert.pk})).status_code == 404


@pytest.mark.parametrize("role", ["detective", "administrator", "outsider"])
def test_roles_without_alerts_are_refused(request, api_as, role, live_deployment, raise_alert):
    alert = raise_alert()
    client = api_as(request.getfixturevalue(role))
    assert client.get(*_list(live_deployment)).status_code == 403
    assert client.get(reverse("api:alert-detail", kwargs={"pk": alert.pk})).status_code == 403


def test_the_detail_has_the_decisions_and_the_case(api_as, officer, raise_alert):
    alert = raise_alert()
    alert_adjudicate(actor=officer, alert=alert, decision="confirmed", outcome="Arrested")
    alert_engagement_record(actor=officer, alert=alert, engaged=True, identity_confirmed=True, result="arrested")
    response = api_as(officer).get(reverse("api:alert-detail", kwargs={"pk": alert.pk}))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == alert.pk and body["status"] == "confirmed" and body["outcome"] == "Arrested"
    assert body["case_reference"] == ""
    decision, engagement = body["adjudications"]
    assert (decision["kind"], decision["decision"], decision["superseded"]) == ("decision", "confirmed", False)
    assert (engagement["kind"], engagement["engaged"], engagement["identity_confirmed"], engagement["result"]) == (
        "engagement", True, True, "arrested")


def test_an_alert_that_does_not_exist_is_404(api_as, officer, live_deployment):
    assert api_as(officer).get(reverse("api:alert-detail", kwargs={"pk": 999999})).status_code == 404
