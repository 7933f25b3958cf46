"""POST /api/alerts/<id>/engagement/: stage 2, for true and false alerts alike; the service's rules as 400s in
its words; audited."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from alerts.models import AlertRecord
from alerts.services import alert_adjudicate
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _engage(client, alert, **body):
    return client.post(reverse("api:alert-engagement", kwargs={"pk": alert.pk}),
                       {"expected_version": alert.version} | body, format="json")


def test_a_stop_after_a_false_alert_is_recorded(api_as, officer, raise_alert):
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="not_a_match")
    response = _engage(api_as(officer), alert, engaged=True, identity_confirmed=False, stop_minutes=5,
                       result="no_further_action")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == alert.version + 1 and body["status"] == "not_a_match"
    engagement = body["adjudications"][-1]
    assert (engagement["kind"], engagement["engaged"], engagement["identity_confirmed"], engagement["stop_minutes"],
            engagement["result"]) == ("engagement", True, False, 5, "no_further_action")
    assert AlertRecord.objects.get(alert=alert).stop_minutes == 5
    assert AuditEvent.objects.get(action="alert.engagement_recorded").actor == officer


@pytest.mark.parametrize("body, field", [
    ({}, "engaged"),
    ({"engaged": "perhaps"}, "engaged"),
    ({"engaged": True, "stop_minutes": 601}, "stop_minutes"),
    ({"engaged": True, "stop_minutes": "ten"}, "stop_minutes"),
    ({"engaged": True, "result": "fined"}, "result"),
    ({"engaged": False, "expected_version": None}, "expected_version"),
])
def test_malformed_input_is_a_400_naming_the_field(api_as, officer, raise_alert, body, field):
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="confirmed")
    response = _engage(api_as(officer), alert, **body)
    assert response.status_code == 400 and field in response.json()


def test_the_rules_come_back_in_the_services_words(api_as, officer, raise_alert):
    client = api_as(officer)
    pending = raise_alert(0)
    refused = _engage(client, pending, engaged=False)
    assert refused.status_code == 400 and "decide on the images first" in refused.json()["errors"][0]
    alert = alert_adjudicate(actor=officer, alert=raise_alert(1), decision="not_a_match")
    no_minutes = _engage(client, alert, engaged=True, identity_confirmed=False)
    assert no_minutes.status_code == 400 and "say for how many minutes" in no_minutes.json()["errors"][0]
    stale = _engage(client, alert, engaged=False, expected_version=alert.version - 1)
    assert stale.status_code == 409


def test_watchers_and_unassigned_officers_cannot_record_it(api_as, officer, commander, make_user, raise_alert):
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="confirmed")
    assert _engage(api_as(commander), alert, engaged=False).status_code == 403
    assert _engage(api_as(make_user(Role.OFFICER)), alert, engaged=False).status_code == 404
    assert not alert.adjudications.filter(kind="engagement").exists()
