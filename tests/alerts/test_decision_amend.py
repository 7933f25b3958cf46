"""alert_decision_amend: an officer corrects their own decision (stage 1 or 2) within
ALERT_DECISION_AMEND_MINUTES, with a reason; a new row naming the one it amends (the history stays, the latest
counts), audited with before and after, the statistics record in step."""

import datetime as dt

import pytest

from accounts.roles import Role
from alerts.models import Adjudication, AlertRecord
from alerts.services import alert_adjudicate, alert_decision_amend, alert_engagement_record
from audit.models import AuditEvent
from core.errors import PermissionDenied, RuleViolation

pytestmark = pytest.mark.django_db


def _decided(officer, alert, decision="not_a_match", **fields):
    alert = alert_adjudicate(actor=officer, alert=alert, decision=decision, **fields)
    return alert, alert.adjudications.get(kind="decision")


def test_a_decision_is_amended_with_its_reason_and_the_history_kept(officer, raise_alert):
    alert, first = _decided(officer, raise_alert(), "not_a_match", demographics={"ethnicity": "IC1"})
    amended = alert_decision_amend(actor=officer, alert=alert, adjudication_id=first.pk, decision="cannot_tell",
                                   notes="the face was half hidden", reason="pressed the wrong button",
                                   expected_version=alert.version)
    assert amended.status == "cannot_tell" and amended.version == alert.version + 1
    old, new = alert.adjudications.order_by("pk")
    assert (old.pk, old.decision) == (first.pk, "not_a_match")  # kept as it was
    assert (new.amends_id, new.decision, new.notes, new.amend_reason) == (
        first.pk, "cannot_tell", "the face was half hidden", "pressed the wrong button")
    record = AlertRecord.objects.get(alert=alert)
    assert (record.status, record.ethnicity, record.first_decided_at) == ("cannot_tell", "", first.decided_at)
    event = AuditEvent.objects.get(action="alert.decision_amended")
    assert event.actor == officer and event.details["reason"] == "pressed the wrong button"
    assert event.details["before"]["decision"] == "not_a_match" and event.details["after"]["decision"] == "cannot_tell"
    assert (event.details["amends"], event.details["adjudication"]) == (first.pk, new.pk)


def test_the_engagement_is_amended_and_the_stop_recorded(officer, raise_alert):
    alert, _ = _decided(officer, raise_alert())
    alert = alert_engagement_record(actor=officer, alert=alert, engaged=False)
    engagement = alert.adjudications.get(kind="engagement")
    alert_decision_amend(actor=officer, alert=alert, adjudication_id=engagement.pk, engaged=True,
                         identity_confirmed=False, stop_minutes=7, result="no_further_action",
                         reason="we did stop him, briefly")
    record = AlertRecord.objects.get(alert=alert)
    assert (record.engaged, record.identity_confirmed, record.stop_minutes, record.result) == (
        True, False, 7, "no_further_action")
    details = AuditEvent.objects.get(action="alert.decision_amended").details
    assert details["before"]["engaged"] is False and details["after"]["stop_minutes"] == 7
    with pytest.raises(RuleViolation, match="say for how many minutes"):  # the same rules as the first time
        latest = alert.adjudications.get(kind="engagement", amended_by=None)
        alert_decision_amend(actor=officer, alert=alert, adjudication_id=latest.pk, engaged=True,
                             identity_confirmed=False, reason="again")


def test_a_reason_is_required_and_only_the_latest_is_amended(officer, raise_alert):
    alert, first = _decided(officer, raise_alert())
    with pytest.raises(RuleViolation, match="give the reason"):
        alert_decision_amend(actor=officer, alert=alert, adjudication_id=first.pk, decision="confirmed", reason=" ")
    alert_decision_amend(actor=officer, alert=alert, adjudication_id=first.pk, decision="confirmed", reason="wrong")
    with pytest.raises(RuleViolation, match="already been amended: amend the latest"):
        alert_decision_amend(actor=officer, alert=alert, adjudication_id=first.pk, decision="cannot_tell",
                             reason="again")
    with pytest.raises(RuleViolation, match="no decision 999999"):
        alert_decision_amend(actor=officer, alert=alert, adjudication_id=999999, decision="cannot_tell", reason="x")


def test_after_the_window_it_is_refused_and_amending_again_does_not_extend_it(settings, officer, raise_alert):
    settings.ALERT_DECISION_AMEND_MINUTES = 15
    alert, first = _decided(officer, raise_alert())
    Adjudication.objects.filter(pk=first.pk).update(decided_at=first.decided_at - dt.timedelta(minutes=14))
    alert_decision_amend(actor=officer, alert=alert, adjudication_id=first.pk, decision="confirmed", reason="wrong")
    second = alert.adjudications.get(amended_by=None)
    Adjudication.objects.filter(pk=first.pk).update(decided_at=first.decided_at - dt.timedelta(minutes=16))
    with pytest.raises(RuleViolation, match="too late to amend: a decision can be amended only within 15 minutes"):
        alert_decision_amend(actor=officer, alert=alert, adjudication_id=second.pk, decision="cannot_tell",
                             reason="changed my mind")
    assert AlertRecord.objects.get(alert=alert).status == "confirmed"


def test_only_the_officer_who_decided_amends(officer, make_user, live_deployment, raise_alert):
    colleague = make_user(Role.OFFICER)
    live_deployment.officers.add(colleague)
    alert, first = _decided(officer, raise_alert())
    with pytest.raises(PermissionDenied, match="only the officer who made a decision"):
        alert_decision_amend(actor=colleague, alert=alert, adjudication_id=first.pk, decision="confirmed", reason="x")


def test_two_person_confirmation_still_holds_after_an_amendment(settings, officer, make_user, live_deployment,
                                                                raise_alert):
    settings.ALERT_TWO_PERSON_CONFIRMATION = True
    second = make_user(Role.OFFICER)
    live_deployment.officers.add(second)
    alert, first = _decided(officer, raise_alert())
    amended = alert_decision_amend(actor=officer, alert=alert, adjudication_id=first.pk, decision="confirmed",
                                   reason="it is him after all")
    assert amended.status == "awaiting_verification"  # a match still needs the second officer
    with pytest.raises(RuleViolation, match="a second officer must verify"):
        alert_adjudicate(actor=officer, alert=amended, decision="confirmed")
    verified = alert_adjudicate(actor=second, alert=amended, decision="confirmed")
    assert verified.status == "confirmed"
    latest = verified.adjudications.get(kind="decision", amended_by=None)
    with pytest.raises(RuleViolation, match="a second officer has verified"):
        alert_decision_amend(actor=officer, alert=verified, adjudication_id=latest.pk, decision="not_a_match",
                             reason="x")
