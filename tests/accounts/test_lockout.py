import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client, username, password, address="198.51.100.7"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_repeated_failures_lock_the_account_from_that_address_and_are_audited(client, detective, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, detective.username, "wrong-password-1").status_code == 200
    locked = attempt(client, detective.username, "wrong-password-1")
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content

    # Even the right password is refused while the lockout lasts ...
    assert attempt(client, detective.username, TEST_PASSWORD).status_code == 429
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    lockout = AuditEvent.objects.filter(action="auth.locked_out").first()
    assert lockout is not None and lockout.details["username"] == detective.username
    assert lockout.client_ip == "198.51.100.7" and lockout.target_id == str(detective.pk)
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT

    # ... but the same officer signing in from another address is not blocked by an attacker elsewhere.
    assert attempt(client, detective.username, TEST_PASSWORD, address="203.0.113.9").status_code == 302


def test_a_success_resets_the_count(client, detective, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, detective.username, "wrong-password-1")
    assert attempt(client, detective.username, TEST_PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, detective.username, "wrong-password-1").status_code == 200
