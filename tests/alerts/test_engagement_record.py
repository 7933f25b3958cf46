"""alert_engagement_record: stage 2, the engagement, after the decision on the images, for true and false
alerts alike (a stop of an innocent person is recorded, with its minutes); audited, the statistics record in
step."""

import pytest

from accounts.roles import Role
from alerts.models import AlertRecord
from alerts.services import alert_adjudicate, alert_engagement_record
from audit.models import AuditEvent
from core.errors import ConcurrentEditError, PermissionDenied, RuleViolation

pytestmark = pytest.mark.django_db


def test_a_false_alert_whose_person_was_stopped_is_recorded_with_the_minutes(officer, raise_alert,
                                                                             django_capture_on_commit_callbacks):
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="not_a_match")
    with django_capture_on_commit_callbacks() as callbacks:
        engaged = alert_engagement_record(actor=officer, alert=alert, engaged=True, identity_confirmed=False,
                                          stop_minutes=5, result="no_further_action", expected_version=alert.version)
    assert callbacks  # the live pages hear of it (alert.updated)
    assert engaged.status == "not_a_match" and engaged.version == alert.version + 1
    row = engaged.adjudications.get(kind="engagement")
    assert (row.engaged, row.identity_confirmed, row.stop_minutes, row.result, row.decision) == (
        True, False, 5, "no_further_action", "")
    record = AlertRecord.objects.get(alert=alert)
    assert (record.status, record.engaged, record.identity_confirmed, record.stop_minutes, record.result) == (
        "not_a_match", True, False, 5, "no_further_action")
    event = AuditEvent.objects.get(action="alert.engagement_recorded")
    assert event.actor == officer and event.details["stop_minutes"] == 5
    assert event.details["identity_confirmed"] is False


def test_a_true_alert_arrest_and_a_subject_never_found(officer, raise_alert):
    arrested = alert_adjudicate(actor=officer, alert=raise_alert(0), decision="confirmed")
    alert_engagement_record(actor=officer, alert=arrested, engaged=True, identity_confirmed=True, result="arrested")
    assert AlertRecord.objects.get(alert=arrested).result == "arrested"
    lost = alert_adjudicate(actor=officer, alert=raise_alert(1), decision="confirmed")
    alert_engagement_record(actor=officer, alert=lost, engaged=False, result="could_not_locate")
    record = AlertRecord.objects.get(alert=lost)
    assert (record.engaged, record.identity_confirmed, record.result) == (False, None, "could_not_locate")


@pytest.mark.parametrize("fields, message", [
    ({"engaged": None}, "say whether the person was engaged"),
    ({"engaged": False, "result": "arrested"}, "a result is recorded only when the person was engaged"),
    ({"engaged": True, "identity_confirmed": True, "result": "could_not_locate"}, "means the person was not engaged"),
    ({"engaged": True, "identity_confirmed": True, "result": "other"}, "say what happened in the notes"),
    ({"engaged": True, "identity_confirmed": False}, "say for how many minutes"),
    ({"engaged": True}, "confirmed the person's identity"),
    ({"engaged": True, "identity_confirmed": False, "stop_minutes": 601}, "from 0 to 600"),
    ({"engaged": True, "identity_confirmed": False, "stop_minutes": -1}, "from 0 to 600"),
    ({"engaged": False, "stop_minutes": 3}, "only when the person was engaged"),
    ({"engaged": True, "identity_confirmed": True, "result": "fined"}, "'fined' is not a result"),
])
def test_the_rules_of_an_engagement(officer, raise_alert, fields, message):
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="not_a_match")
    with pytest.raises(RuleViolation, match=message):
        alert_engagement_record(actor=officer, alert=alert, **fields)
    assert not alert.adjudications.filter(kind="engagement").exists()


def test_other_with_a_note_and_stop_minutes_of_zero_are_fine(officer, raise_alert):
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="cannot_tell")
    alert_engagement_record(actor=officer, alert=alert, engaged=True, identity_confirmed=False, stop_minutes=0,
                            result="other", notes="walked away when spoken to")
    assert AlertRecord.objects.get(alert=alert).stop_minutes == 0


def test_only_after_stage_one_once_and_by_an_assigned_officer(officer, make_user, raise_alert):
    alert = raise_alert()
    with pytest.raises(RuleViolation, match="decide on the images first"):
        alert_engagement_record(actor=officer, alert=alert, engaged=False)
    alert = alert_adjudicate(actor=officer, alert=alert, decision="confirmed")
    with pytest.raises(PermissionDenied, match="not assigned"):
        alert_engagement_record(actor=make_user(Role.OFFICER), alert=alert, engaged=False)
    with pytest.raises(ConcurrentEditError):
        alert_engagement_record(actor=officer, alert=alert, engaged=False, expected_version=alert.version - 1)
    alert_engagement_record(actor=officer, alert=alert, engaged=False)
    with pytest.raises(RuleViolation, match="already been recorded"):
        alert_engagement_record(actor=officer, alert=alert, engaged=False)


def test_with_two_person_confirmation_the_engagement_may_precede_the_verification(settings, officer, make_user,
                                                                                   live_deployment, raise_alert):
    settings.ALERT_TWO_PERSON_CONFIRMATION = True
    second = make_user(Role.OFFICER)
    live_deployment.officers.add(second)
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="confirmed")
    alert_engagement_record(actor=officer, alert=alert, engaged=True, identity_confirmed=True, result="arrested")
    verified = alert_adjudicate(actor=second, alert=alert, decision="confirmed")
    assert verified.status == "confirmed"
    record = AlertRecord.objects.get(alert=alert)
    assert (record.status, record.engaged, record.result) == ("confirmed", True, "arrested")
