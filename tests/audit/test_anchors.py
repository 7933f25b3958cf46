"""Anchors catch a rewrite of history that recomputes every hash (which the chain walk alone cannot)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.chain import event_hash
from audit.models import AuditAnchor, AuditEvent
from audit.services import audit_anchor_record, audit_record, event_fields

pytestmark = pytest.mark.django_db


def rewrite_from(sequence: int, **changes) -> None:
    """What a database superuser could do: change an event and recompute the rest of the chain."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        previous = AuditEvent.objects.get(sequence=sequence - 1).hash if sequence > 1 else "0" * 64
        for event in AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"):
            for field, value in changes.items():
                setattr(event, field, value)
            event.prev_hash = previous
            event.hash = event_hash(event_fields(event))
            cursor.execute("UPDATE audit_auditevent SET actor_username = %s, prev_hash = %s, hash = %s WHERE id = %s",
                           [event.actor_username, event.prev_hash, event.hash, event.pk])
            previous = event.hash


def test_anchor_records_the_head_and_logs_it(detective, caplog):
    assert audit_anchor_record() is None  # nothing to anchor yet
    for action in ("a", "b"):
        head = audit_record(actor=detective, action=action)
    anchor = audit_anchor_record()
    assert (anchor.head_sequence, anchor.head_hash) == (2, head.hash)
    assert "AUDIT ANCHOR" in caplog.text and head.hash in caplog.text


def test_a_consistent_rewrite_is_caught_by_the_anchor(detective):
    for i in range(5):
        audit_record(actor=detective, action="subject.viewed", details={"i": i})
    audit_anchor_record()
    audit_record(actor=detective, action="later")
    rewrite_from(3, actor_username="someone_else")

    with pytest.raises(CommandError, match=r"BROKEN at event #5: history was rewritten"):
        call_command("audit_verify")


def test_removing_the_tail_is_caught_by_the_anchor(detective):
    for _ in range(4):
        audit_record(actor=detective, action="a")
    audit_anchor_record()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence >= 3")
    with pytest.raises(CommandError, match=r"chain ends at #2 but an anchor .* saw event #4"):
        call_command("audit_verify")


def test_anchors_are_append_only(detective):
    audit_record(actor=detective, action="a")
    anchor = audit_anchor_record()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditAnchor.objects.filter(pk=anchor.pk).update(head_hash="0" * 64)
