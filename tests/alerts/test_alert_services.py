import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.roles import Role
from alerts.models import Alert
from alerts.services import alert_adjudicate, alert_case_link, alerts_purge_expired
from audit.models import AuditEvent
from core.errors import ConcurrentEditError, RuleViolation

pytestmark = pytest.mark.django_db


def test_alert_records_what_the_officer_needs(raise_alert, live_deployment):
    alert = raise_alert(0, score=0.6612)
    assert alert.subject_name == "Subject 0" and alert.score == 0.6612
    assert alert.threshold == live_deployment.threshold and alert.model_id == live_deployment.snapshot.model_id
    assert (Path(settings.PROTECTED_MEDIA_ROOT) / alert.probe_file).read_bytes()[:2] == b"\xff\xd8"
    event = AuditEvent.objects.get(action="alert.created")
    assert event.deployment_id == live_deployment.pk and event.details["subject"] == "PNC-0000"


def test_assigned_officer_decides(officer, raise_alert):
    alert = raise_alert()
    decided = alert_adjudicate(actor=officer, alert=alert, decision="confirmed", outcome="Arrested",
                               expected_version=alert.version)
    assert decided.status == Alert.Status.CONFIRMED and decided.outcome == "Arrested"
    assert AuditEvent.objects.get(action="alert.adjudicated").details["decision"] == "confirmed"
    with pytest.raises(RuleViolation, match="already been decided"):
        alert_adjudicate(actor=officer, alert=alert, decision="not_a_match")


def test_unassigned_officers_and_other_roles_cannot_decide(make_user, commander, raise_alert):
    alert = raise_alert()
    with pytest.raises(PermissionDenied, match="not assigned"):
        alert_adjudicate(actor=make_user(Role.OFFICER), alert=alert, decision="not_a_match")
    with pytest.raises(PermissionDenied):
        alert_adjudicate(actor=commander, alert=alert, decision="not_a_match")


def test_stale_decision_is_refused(officer, make_user, live_deployment, raise_alert):
    colleague = make_user(Role.OFFICER)
    live_deployment.officers.add(colleague)
    alert = raise_alert()
    alert_adjudicate(actor=colleague, alert=alert, decision="cannot_tell", expected_version=alert.version)
    with pytest.raises(ConcurrentEditError):
        alert_adjudicate(actor=officer, alert=alert, decision="confirmed", expected_version=alert.version)


def test_two_person_rule(settings, officer, make_user, live_deployment, raise_alert):
    settings.ALERT_TWO_PERSON_CONFIRMATION = True
    second = make_user(Role.OFFICER)
    live_deployment.officers.add(second)
    alert = raise_alert()
    first = alert_adjudicate(actor=officer, alert=alert, decision="confirmed")
    assert first.status == Alert.Status.AWAITING_VERIFICATION
    with pytest.raises(RuleViolation, match="a second officer must verify"):
        alert_adjudicate(actor=officer, alert=alert, decision="confirmed")
    verified = alert_adjudicate(actor=second, alert=alert, decision="confirmed")
    assert verified.status == Alert.Status.CONFIRMED
    assert [a.kind for a in verified.adjudications.all()] == ["decision", "verification"]


def test_retention_deletes_old_alerts_unless_linked_to_a_case(officer, raise_alert, django_capture_on_commit_callbacks):
    old, kept, recent = raise_alert(0), raise_alert(1), raise_alert(0)
    Alert.objects.filter(pk__in=[old.pk, kept.pk]).update(
        created_at=timezone.now() - dt.timedelta(days=settings.ALERT_RETENTION_DAYS + 1))
    alert_case_link(actor=officer, alert=kept, case_reference="CASE/2026/0042")
    probe = Path(settings.PROTECTED_MEDIA_ROOT) / old.probe_file
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_purge_expired() == 1
    assert set(Alert.objects.values_list("pk", flat=True)) == {kept.pk, recent.pk}
    assert not probe.exists()
    assert AuditEvent.objects.filter(action="alert.purged", target_id=str(old.pk)).exists()
