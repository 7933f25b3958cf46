"""Events the audit log page and its API are both tested on, and the filter cases they must agree on."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from audit.selectors import AUDIT_PAGE_SIZE
from audit.services import audit_record


@pytest.fixture
def many_events(detective):
    """More than two pages of one detective's events; returns the number of events in the log."""
    for i in range(2 * AUDIT_PAGE_SIZE + 20):
        audit_record(actor=detective, action="subject.viewed", details={"i": i})
    return AuditEvent.objects.count()


@pytest.fixture
def varied_events(detective, commander, officer, make_user, monkeypatch):
    changer = make_user(Role.OFFICER, username="changed_role")
    clock = {"now": None}
    with monkeypatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: clock["now"])
        clock["now"] = timezone.make_aware(dt.datetime(2026, 3, 10, 12, 0))
        audit_record(actor=detective, action="watchlist.created", target=("watchlists.watchlist", 7))
        clock["now"] = timezone.make_aware(dt.datetime(2026, 3, 11, 23, 30))
        audit_record(actor=commander, action="deployment.authorised", deployment=42)
        clock["now"] = timezone.make_aware(dt.datetime(2026, 3, 12, 0, 30))
        audit_record(actor=officer, action="alert.adjudicated", deployment=42, target=("alerts.alert", 3))
        audit_record(actor=officer, action="alert.viewed", deployment=43, target=("alerts.alert", 4))
        audit_record(actor=None, action="system.purge")
        audit_record(actor=changer, action="alertness.check")
        changer.groups.set([])
        changer = type(changer).objects.get(pk=changer.pk)  # roles are cached on the user object
        audit_record(actor=changer, action="alertness.check")


@pytest.fixture
def altered_event(detective):
    """An event whose details a database superuser changed from {"subject": 1} to {"subject": 2} behind the
    append-only trigger's back (its hash still covers the old details)."""
    event = audit_record(actor=detective, action="subject.viewed", details={"subject": 1})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE audit_auditevent SET details = '{\"subject\": 2}' WHERE sequence = %s",
                       [event.sequence])
    return event


# (query, actions selected from varied_events, newest first)
FILTER_CASES = [
    ({"actor": "pc_brown"}, ["alert.viewed", "alert.adjudicated"]),
    ({"deployment": "42"}, ["alert.adjudicated", "deployment.authorised"]),
    ({"action": "alert.viewed"}, ["alert.viewed"]),
    ({"action": "alert."}, ["alert.viewed", "alert.adjudicated"]),  # a prefix, not "alertness."
    ({"role": "officer"}, ["alertness.check", "alert.viewed", "alert.adjudicated"]),  # roles at the time
    ({"role": "authorising_officer"}, ["deployment.authorised"]),
    ({"target_type": "alerts.alert", "target_id": "3"}, ["alert.adjudicated"]),
    ({"target_type": "alerts.alert"}, ["alert.viewed", "alert.adjudicated"]),
    ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, ["deployment.authorised"]),  # local days (London)
    ({"date_to": "2026-03-10"}, ["watchlist.created"]),
    ({"actor": "pc_brown", "deployment": "43"}, ["alert.viewed"]),
]
