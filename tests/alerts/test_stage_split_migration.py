"""alerts/0006: the stored decisions the two stages replaced. "Other" becomes "cannot tell" (its notes kept),
"could not locate" a match never engaged (stage 2: could_not_locate), and an engagement recorded on a decision
row moves to an engagement row of its own."""

import importlib

import pytest
from django.apps import apps

from alerts.models import Adjudication, Alert, AlertRecord

pytestmark = pytest.mark.django_db

split_stages = importlib.import_module("alerts.migrations.0006_stage_two_engagement_and_amendments").split_stages


def _stored(officer, alert, decision, **fields):
    """A decision as stored before 0006 (the old values, which the models no longer offer)."""
    row = Adjudication.objects.create(alert=alert, officer=officer, decision="confirmed", **fields)
    Adjudication.objects.filter(pk=row.pk).update(decision=decision)
    Alert.objects.filter(pk=alert.pk).update(status=decision)
    AlertRecord.objects.filter(alert=alert).update(status=decision)
    return row


def test_old_decisions_are_moved_to_the_two_stages(officer, raise_alert):
    other, not_located, engaged = raise_alert(0), raise_alert(1), raise_alert(0)
    _stored(officer, other, "other", notes="crowd too dense")
    _stored(officer, not_located, "not_located")
    _stored(officer, engaged, "confirmed", engaged=True, result="arrested")
    split_stages(apps, None)

    assert Alert.objects.get(pk=other.pk).status == "cannot_tell"
    assert other.adjudications.get().notes == "crowd too dense" and other.adjudications.get().decision == "cannot_tell"
    assert AlertRecord.objects.get(alert=other).status == "cannot_tell"

    assert Alert.objects.get(pk=not_located.pk).status == "confirmed"
    stage_one, stage_two = not_located.adjudications.order_by("pk")
    assert (stage_one.kind, stage_one.decision, stage_one.engaged, stage_one.result) == ("decision", "confirmed",
                                                                                        None, "")
    assert (stage_two.kind, stage_two.engaged, stage_two.result) == ("engagement", False, "could_not_locate")
    record = AlertRecord.objects.get(alert=not_located)
    assert (record.status, record.engaged, record.result) == ("confirmed", False, "could_not_locate")

    decision, engagement = engaged.adjudications.order_by("pk")
    assert (decision.engaged, decision.result) == (None, "")
    assert (engagement.kind, engagement.engaged, engagement.result, engagement.decided_at) == (
        "engagement", True, "arrested", decision.decided_at)
