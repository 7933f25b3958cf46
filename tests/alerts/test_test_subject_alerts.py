"""Alerts of consenting test subjects: frozen with their category, marked TEST to officers, decided as usual,
kept apart in the statistics record."""

from __future__ import annotations

import pytest

from alerts.models import AlertRecord
from alerts.payloads import alert_payload
from alerts.services import alert_adjudicate
from audit.models import AuditEvent
from deployments.models import ManifestEntry, SnapshotReference
from watchlists.models import InclusionCategory

pytestmark = pytest.mark.django_db


def test_the_snapshot_and_manifest_keep_the_test_category(test_subject_deployment):
    tester = test_subject_deployment.test_subject
    reference = SnapshotReference.objects.get(snapshot=test_subject_deployment.snapshot, subject_id=tester.pk)
    assert reference.category == InclusionCategory.TEST_SUBJECT
    entry = ManifestEntry.objects.get(deployment=test_subject_deployment, subject_id=tester.pk)
    assert entry.category == InclusionCategory.TEST_SUBJECT and "CONSENT-2026-014" in entry.reason


def test_a_test_subjects_alert_is_marked_test(test_subject_deployment, raise_subject_alert):
    alert = raise_subject_alert(test_subject_deployment, test_subject_deployment.test_subject)
    payload = alert_payload(alert)
    assert payload["test"] is True
    assert payload["subject"]["category"] == "Test subject (consenting staff)"
    assert AlertRecord.objects.get(alert=alert).test_subject_id == test_subject_deployment.test_subject.pk
    assert AuditEvent.objects.get(action="alert.created", target_id=str(alert.pk)).details["test"] is True


def test_a_real_alert_is_not_marked_test(test_subject_deployment, raise_subject_alert):
    alert = raise_subject_alert(test_subject_deployment, test_subject_deployment.real_subject)
    assert alert_payload(alert)["test"] is False
    assert AlertRecord.objects.get(alert=alert).test_subject_id is None
    assert "test" not in AuditEvent.objects.get(action="alert.created", target_id=str(alert.pk)).details


def test_officers_decide_a_test_alert_as_usual(test_subject_deployment, raise_subject_alert, officer):
    alert = raise_subject_alert(test_subject_deployment, test_subject_deployment.test_subject)
    decided = alert_adjudicate(actor=officer, alert=alert, decision="confirmed", notes="Our test walker")
    assert decided.status == "confirmed"
    record = AlertRecord.objects.get(alert=alert)
    assert record.status == "confirmed" and record.test_subject_id == test_subject_deployment.test_subject.pk
    assert AuditEvent.objects.filter(action="alert.adjudicated", target_id=str(alert.pk)).exists()
