import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.services import audit_record


def _tamper(sql: str, params: list) -> None:
    """What a database superuser could do: bypass the trigger and rewrite history."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers do not fire
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_verify_passes_on_a_fresh_database(capsys):
    call_command("audit_verify")
    assert "audit chain OK: no events yet" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_passes_on_an_intact_chain(detective, capsys):
    for action in ("a", "b", "c"):
        audit_record(actor=detective, action=action)
    call_command("audit_verify")
    assert "audit chain OK: 3 events" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_names_an_altered_event(detective, commander):
    for i in range(5):
        audit_record(actor=detective, action="subject.viewed", details={"subject": i})
    _tamper("UPDATE audit_auditevent SET details = %s WHERE sequence = 3", ['{"subject": 99}'])
    with pytest.raises(CommandError, match=r"BROKEN at event #3: event #3 \(subject.viewed\) was altered"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_verify_names_a_deleted_event(detective):
    for _ in range(4):
        audit_record(actor=detective, action="alert.viewed")
    _tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [2])
    with pytest.raises(CommandError, match="BROKEN at event #2: event #2 is missing"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_verify_detects_a_rehashed_event_by_its_successor(detective):
    """Recomputing the altered event's own hash is not enough: the next link no longer matches."""
    from audit.chain import event_hash
    from audit.models import AuditEvent
    from audit.services import event_fields

    for i in range(3):
        audit_record(actor=detective, action="subject.viewed", details={"subject": i})
    event = AuditEvent.objects.get(sequence=2)
    event.actor_username = "someone_else"
    _tamper("UPDATE audit_auditevent SET actor_username = %s, hash = %s WHERE sequence = 2",
            ["someone_else", event_hash(event_fields(event))])
    with pytest.raises(CommandError, match="BROKEN at event #3: event #3 does not link"):
        call_command("audit_verify")
