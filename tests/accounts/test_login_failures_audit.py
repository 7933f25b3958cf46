"""accounts.services.login_failures_add / login_failures_audit: failed sign-ins audited as one event per
username, address and minute."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import LoginFailureCount
from accounts.services import login_failures_add, login_failures_audit
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
MINUTE = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def test_a_flood_of_failures_is_one_event_per_username_address_and_minute(detective):
    for second in range(0, 60, 5):
        login_failures_add(username=detective.username, address="198.51.100.7", at=MINUTE.replace(second=second))
    login_failures_add(username=detective.username, address="203.0.113.9", at=MINUTE)
    login_failures_add(username="nobody", address="198.51.100.7", at=MINUTE)
    login_failures_add(username=detective.username, address="198.51.100.7", at=MINUTE + dt.timedelta(minutes=1))
    assert not AuditEvent.objects.exists()  # counted, not yet audited

    assert login_failures_audit(now=MINUTE + dt.timedelta(minutes=1, seconds=30)) == 3
    events = {(e.details["username"], e.details["address"]): e for e in AuditEvent.objects.filter(action="auth.login_failed")}
    flood = events[(detective.username, "198.51.100.7")]
    assert flood.details == {"username": detective.username, "address": "198.51.100.7", "count": 12,
                             "minute": "2026-12-01T09:30:00+00:00"}
    assert flood.client_ip == "198.51.100.7" and flood.target_id == str(detective.pk) and flood.actor is None
    assert events[(detective.username, "203.0.113.9")].details["count"] == 1
    assert events[("nobody", "198.51.100.7")].target_id == ""
    # The open minute stays counted until it closes; the audited counts are gone.
    assert list(LoginFailureCount.objects.values_list("minute", "count")) == [(MINUTE + dt.timedelta(minutes=1), 1)]
    assert login_failures_audit(now=MINUTE + dt.timedelta(minutes=2, seconds=30)) == 1
    assert not LoginFailureCount.objects.exists()


def test_a_minute_is_audited_only_after_its_grace_period(detective):
    login_failures_add(username=detective.username, address="198.51.100.7", at=MINUTE.replace(second=59))
    assert login_failures_audit(now=MINUTE + dt.timedelta(minutes=1, seconds=5)) == 0
    assert login_failures_audit(now=MINUTE + dt.timedelta(minutes=1, seconds=11)) == 1


def test_counts_stay_when_the_audit_write_fails(detective, monkeypatch):
    import accounts.services

    login_failures_add(username=detective.username, address="198.51.100.7", at=MINUTE)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(accounts.services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        login_failures_audit(now=MINUTE + dt.timedelta(minutes=5))
    assert LoginFailureCount.objects.get().count == 1
    monkeypatch.undo()
    assert login_failures_audit(now=MINUTE + dt.timedelta(minutes=5)) == 1


def test_the_sign_in_page_counts_each_failure_with_the_client_address(detective):
    for _ in range(3):
        Client().post(reverse("accounts:login"), {"username": detective.username, "password": "wrong-password-1"},
                      REMOTE_ADDR="198.51.100.7")
    count = LoginFailureCount.objects.get()
    assert (count.username, count.address, count.count) == (detective.username, "198.51.100.7", 3)
    assert not AuditEvent.objects.filter(action="auth.login_failed").exists()


def test_the_beat_schedule_audits_the_counts_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["login-failures-audit"]
    assert entry["task"] == "accounts.tasks.login_failures_audit_task" and entry["schedule"] <= 60
