import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.db.utils import DatabaseError

from audit.chain import GENESIS_HASH
from audit.context import Channel, audit_context
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_record


@pytest.mark.django_db
def test_events_form_a_verifiable_chain(detective, commander):
    first = audit_record(actor=detective, action="watchlist.created", target=("watchlists.watchlist", 7),
                         details={"name": "Op Lantern", "threshold": 0.6, "when": "2026-11-28"})
    second = audit_record(actor=commander, action="deployment.authorised", deployment=42,
                          details={"amount": Decimal("1.50")})
    third = audit_record(actor=None, action="system.purge", details={})

    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.actor_roles == ["detective"] and second.actor_roles == ["authorising_officer"]
    assert second.deployment_id == 42 and first.target_type == "watchlists.watchlist" and first.target_id == "7"
    assert third.actor is None and third.actor_username == ""

    report = audit_chain_verify()
    assert report.ok, report.reason
    assert report.checked == 3 and report.head_hash == third.hash


@pytest.mark.django_db
def test_client_address_is_recorded(officer):
    with audit_context(channel=Channel.WEB, client_ip="10.1.2.3"):
        event = audit_record(actor=officer, action="alert.viewed")
    assert AuditEvent.objects.get(pk=event.pk).client_ip == "10.1.2.3"


@pytest.mark.django_db
def test_rolled_back_event_leaves_no_gap(detective):
    audit_record(actor=detective, action="a")
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            audit_record(actor=detective, action="b")
            raise RuntimeError("the operation failed, so its audit event must go with it")
    audit_record(actor=detective, action="c")
    assert list(AuditEvent.objects.values_list("sequence", "action")) == [(1, "a"), (2, "c")]
    assert audit_chain_verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize("statement", [
    "UPDATE audit_auditevent SET action = 'nothing.happened'",
    "DELETE FROM audit_auditevent",
])
def test_database_refuses_update_and_delete(detective, statement):
    audit_record(actor=detective, action="subject.viewed")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.get().action == "subject.viewed"


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["audit_auditevent", "audit_auditanchor"])
def test_database_refuses_truncate_even_by_the_owner(detective, table):
    """TRUNCATE fires no row trigger: the owner of the tables could empty them (audit/0007)."""
    from audit.services import audit_anchor_record

    audit_record(actor=detective, action="subject.viewed")
    audit_anchor_record()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run beside pending FK checks
    with pytest.raises(DatabaseError, match=f"TRUNCATE refused on {table}"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_orm_delete_is_refused_too(detective):
    event = audit_record(actor=detective, action="subject.viewed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_still_form_one_chain(make_user):
    users = [make_user() for _ in range(8)]
    errors: list[Exception] = []
    start = threading.Barrier(len(users))

    def append_many(user):
        try:
            start.wait()
            for i in range(25):
                with transaction.atomic():
                    audit_record(actor=user, action="load.test", details={"i": i})
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=append_many, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert AuditEvent.objects.count() == 200
    assert sorted(AuditEvent.objects.values_list("sequence", flat=True)) == list(range(1, 201))
    report = audit_chain_verify()
    assert report.ok, report.reason and report.checked == 200


@pytest.mark.django_db
def test_the_audit_table_carries_no_unused_hash_pattern_index():
    """Each index costs every audited request a write; the LIKE index Django adds for `hash` serves nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditevent'")
        names = {row[0] for row in cursor.fetchall()}
    assert "audit_auditevent_hash_key" in names  # the unique index that links the chain stays
    assert not [name for name in names if name.endswith("_like")]
