"""POST /api/alerts/<id>/adjudications/<adjudication id>/amendment/: an officer's correction of their own
decision within the window, with a reason; refused in clear words after it, 403 for someone else's."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.roles import Role
from alerts.models import Adjudication, AlertRecord
from alerts.services import alert_adjudicate, alert_engagement_record

pytestmark = pytest.mark.django_db


def _amend(client, alert, adjudication, **body):
    return client.post(reverse("api:alert-amendment", kwargs={"pk": alert.pk, "adjudication_pk": adjudication.pk}),
                       {"expected_version": alert.version} | body, format="json")


def test_a_decision_and_an_engagement_are_amended(api_as, officer, raise_alert):
    client = api_as(officer)
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="confirmed")
    decision = alert.adjudications.get()
    response = _amend(client, alert, decision, decision="not_a_match", reason="wrong person, on a closer look")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "not_a_match"
    old, new = body["adjudications"]
    assert (old["id"], old["superseded"]) == (decision.pk, True)
    assert (new["amends"], new["amend_reason"], new["superseded"]) == (decision.pk, "wrong person, on a closer look",
                                                                      False)
    alert = alert_engagement_record(actor=officer, alert=alert, engaged=False)
    engagement = alert.adjudications.get(kind="engagement")
    response = _amend(client, alert, engagement, engaged=True, identity_confirmed=False, stop_minutes=5,
                      result="no_further_action", reason="we did stop him")
    assert response.status_code == 200, response.content
    assert AlertRecord.objects.get(alert=alert).stop_minutes == 5


def test_refusals_in_clear_words(settings, api_as, officer, make_user, live_deployment, raise_alert):
    colleague = make_user(Role.OFFICER)
    live_deployment.officers.add(colleague)
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="confirmed")
    decision = alert.adjudications.get()
    no_reason = _amend(api_as(officer), alert, decision, decision="not_a_match")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    theirs = _amend(api_as(colleague), alert, decision, decision="not_a_match", reason="x")
    assert theirs.status_code == 403 and "only the officer who made a decision" in str(theirs.json())
    Adjudication.objects.filter(pk=decision.pk).update(
        decided_at=decision.decided_at - dt.timedelta(minutes=settings.ALERT_DECISION_AMEND_MINUTES + 1))
    late = _amend(api_as(officer), alert, decision, decision="not_a_match", reason="x")
    assert late.status_code == 400 and "too late to amend" in late.json()["errors"][0]
    assert AlertRecord.objects.get(alert=alert).status == "confirmed"
