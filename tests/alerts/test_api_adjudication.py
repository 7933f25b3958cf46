"""POST /api/alerts/<id>/adjudication/: an assigned officer's decision, with the live page's rules (the
decisions and demographics, the two-person rule, the version as last read); audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from alerts.models import Alert, AlertRecord
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _adjudicate(client, alert, **body):
    return client.post(reverse("api:alert-adjudication", kwargs={"pk": alert.pk}),
                       {"expected_version": alert.version} | body, format="json")


def test_an_assigned_officer_decides_and_gets_the_alert_back(api_as, officer, raise_alert):
    alert = raise_alert()
    response = _adjudicate(api_as(officer), alert, decision="not_a_match", notes="different person",
                           demographics={"perceived_sex": "male", "age_band": ""})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == alert.pk and body["status"] == "not_a_match" and body["version"] == alert.version + 1
    assert [a["decision"] for a in body["adjudications"]] == ["not_a_match"]
    assert AlertRecord.objects.get(alert=alert).perceived_sex == "male"
    event = AuditEvent.objects.get(action="alert.adjudicated")
    assert event.actor == officer and event.details["decision"] == "not_a_match"


@pytest.mark.parametrize("body, field", [
    ({"decision": "maybe"}, "decision"),
    ({"decision": "not_located"}, "decision"),
    ({"decision": "other"}, "decision"),
    ({"decision": "not_a_match", "demographics": "tall"}, "demographics"),
    ({"decision": "not_a_match", "expected_version": None}, "expected_version"),
])
def test_malformed_input_is_a_400_naming_the_field(api_as, officer, raise_alert, body, field):
    alert = raise_alert()
    response = _adjudicate(api_as(officer), alert, **body)
    assert response.status_code == 400 and field in response.json()
    assert Alert.objects.get(pk=alert.pk).status == "pending"


def test_demographics_are_checked_by_the_service_in_its_words(api_as, officer, raise_alert):
    response = _adjudicate(api_as(officer), raise_alert(), decision="not_a_match", demographics={"height": "tall"})
    assert response.status_code == 400 and "unknown demographics field 'height'" in response.json()["errors"][0]


def test_a_stale_version_is_a_409(api_as, officer, make_user, live_deployment, raise_alert):
    colleague = make_user(Role.OFFICER)
    live_deployment.officers.add(colleague)
    alert = raise_alert()
    assert _adjudicate(api_as(colleague), alert, decision="cannot_tell").status_code == 200
    response = _adjudicate(api_as(officer), alert, decision="confirmed")  # the version it read before
    assert response.status_code == 409 and "changed by someone else" in response.json()["errors"][0]
    assert AuditEvent.objects.filter(action="alert.adjudicated").count() == 1


def test_the_two_person_rule(settings, api_as, officer, make_user, live_deployment, raise_alert):
    settings.ALERT_TWO_PERSON_CONFIRMATION = True
    second = make_user(Role.OFFICER)
    live_deployment.officers.add(second)
    alert = raise_alert()
    first = _adjudicate(api_as(officer), alert, decision="confirmed")
    assert first.status_code == 200 and first.json()["status"] == "awaiting_verification"
    alert.refresh_from_db()
    again = _adjudicate(api_as(officer), alert, decision="confirmed")
    assert again.status_code == 400 and "a second officer must verify" in again.json()["errors"][0]
    verified = _adjudicate(api_as(second), alert, decision="confirmed")
    assert verified.status_code == 200 and verified.json()["status"] == "confirmed"
    assert [a["kind"] for a in verified.json()["adjudications"]] == ["decision", "verification"]


def test_an_alert_already_decided_is_refused(api_as, officer, raise_alert):
    alert = raise_alert()
    assert _adjudicate(api_as(officer), alert, decision="not_a_match").status_code == 200
    alert.refresh_from_db()
    response = _adjudicate(api_as(officer), alert, decision="confirmed")
    assert response.status_code == 400 and "already been decided" in response.json()["errors"][0]


def test_an_unassigned_officer_finds_no_alert(api_as, make_user, raise_alert):
    alert = raise_alert()
    assert _adjudicate(api_as(make_user(Role.OFFICER)), alert, decision="not_a_match").status_code == 404
    assert not AuditEvent.objects.filter(action="alert.adjudicated").exists()


@pytest.mark.parametrize("role", ["commander", "oversight", "detective", "outsider"])
def test_roles_that_do_not_adjudicate_are_refused_before_the_input_is_read(request, api_as, role, raise_alert):
    alert = raise_alert()
    response = api_as(request.getfixturevalue(role)).post(reverse("api:alert-adjudication", kwargs={"pk": alert.pk}),
                                                          {}, format="json")
    assert response.status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == "pending"
