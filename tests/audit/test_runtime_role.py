"""The runtime role (web, workers, beat, GPU hosts) cannot change the audit tables, and a rewrite by the
owner of the tables, who can, is named by `audit_verify` through the anchor file outside the database."""

import os

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from audit.chain import GENESIS_HASH, event_hash
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_anchor_record, audit_record, event_fields
from tests.conftest import subprocess_database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the runtime role's own connection must see the events
    pytest.mark.skipif(not os.environ.get("LFR_TEST_RUNTIME_DATABASE_URL"),
                       reason="the test run has no runtime role (external DATABASE_URL without one)"),
]


@pytest.fixture
def as_runtime():
    """A connection to the test database as the runtime role, as a GPU host would hold it."""
    with psycopg.connect(subprocess_database_url(), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "lfr_app"
        yield conn


@pytest.fixture
def chain(detective):
    for i in range(6):
        audit_record(actor=detective, action="subject.viewed", details={"i": i})


@pytest.fixture
def anchor_file(settings, tmp_path):
    key_file = tmp_path / "anchor.key"
    key_file.write_text("k" * 32)
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    settings.AUDIT_ANCHOR_KEY_FILE = str(key_file)
    return settings.AUDIT_ANCHOR_FILE


@pytest.mark.parametrize("table", ["audit_auditevent", "audit_auditanchor"])
@pytest.mark.parametrize("statement", [
    "UPDATE {table} SET id = id",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER USER",  # what the owner does before a rewrite
])
def test_the_runtime_role_cannot_change_the_audit_tables(chain, as_runtime, table, statement):
    audit_anchor_record()
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied|must be owner"):
        as_runtime.execute(statement.format(table=table))
    assert AuditEvent.objects.count() == 6


def test_the_runtime_role_cannot_turn_triggers_off(as_runtime):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_runtime.execute("SET session_replication_role = replica")


def test_the_runtime_role_can_still_read_and_append(chain, as_runtime):
    """What the portal needs: read the chain, and append to it (audit_record) and to the anchors."""
    assert as_runtime.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] == 6
    as_runtime.execute("INSERT INTO audit_auditanchor (recorded_at, head_sequence, head_hash) "
                       "SELECT now(), sequence, hash FROM audit_auditevent WHERE sequence = 6")
    call_command("audit_verify")


def test_a_rechain_by_the_runtime_role_is_refused(chain, as_runtime):
    """The issue's attack, tried by the runtime role: rewrite an event and recompute the later hashes."""
    event = AuditEvent.objects.get(sequence=3)
    event.details = {"i": 99}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_runtime.execute("UPDATE audit_auditevent SET details = %s, hash = %s WHERE sequence = 3",
                           ['{"i": 99}', event_hash(event_fields(event))])
    call_command("audit_verify")


def _owner_erases_and_rechains(erase: int) -> None:
    """The issue's attack, as the owner of the tables can do it (its own triggers off, no superuser needed):
    erase one event with TRUNCATE and re-insert the rest renumbered, every hash recomputed."""
    events = list(AuditEvent.objects.order_by("sequence"))
    # One transaction: DDL is transactional, so a failure half-way leaves the triggers on for later tests.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditanchor DISABLE TRIGGER USER")
        cursor.execute("TRUNCATE audit_auditevent, audit_auditanchor")  # the database anchors go too
        previous = GENESIS_HASH
        for sequence, event in enumerate((e for e in events if e.sequence != erase), start=1):
            event.sequence, event.prev_hash = sequence, previous
            event.hash = previous = event_hash(event_fields(event))
            event.save(force_insert=True)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses to run beside pending FK checks
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditanchor ENABLE TRIGGER USER")


def test_an_erase_and_rechain_by_the_owner_is_named_by_the_anchor_file(chain, anchor_file, detective):
    audit_anchor_record()  # event #6 anchored, in the database and in the file
    for i in range(3):
        audit_record(actor=detective, action="later", details={"i": i})
    _owner_erases_and_rechains(erase=2)
    assert audit_chain_verify().ok  # the chain and the database anchors alone do not show it

    with pytest.raises(CommandError, match=r"BROKEN at event #6: history was rewritten: line 1 of the anchor file"):
        call_command("audit_verify")


def test_an_erased_tail_is_named_by_the_anchor_file(chain, anchor_file):
    audit_anchor_record()
    events = list(AuditEvent.objects.order_by("sequence"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditanchor DISABLE TRIGGER USER")
        cursor.execute("TRUNCATE audit_auditevent, audit_auditanchor")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditanchor ENABLE TRIGGER USER")
        for event in events[:4]:
            event.save(force_insert=True)
    with pytest.raises(CommandError, match=r"the chain ends at #4 but line 1 of the anchor file .* saw event #6"):
        call_command("audit_verify")
