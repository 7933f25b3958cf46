"""accounts.services.user_unlock: an administrator lets a locked-out user sign in at once."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.selectors import sign_in_failures
from accounts.services import user_unlock
from audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _lock_out(client, user, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong-password"})


def _signs_in(client, user) -> bool:
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD})
    return response.status_code == 302


def test_a_locked_out_user_signs_in_once_unlocked(client, settings, administrator, detective,
                                                  django_capture_on_commit_callbacks):
    settings.LOGIN_DELAY_MAX_SECONDS = 600  # the wait would outlast the test
    _lock_out(client, detective, settings)
    assert sign_in_failures(users=[detective])[detective.pk] >= settings.LOGIN_FAILURE_LIMIT
    assert client.post(reverse("accounts:login"), {"username": detective.username,
                                                   "password": TEST_PASSWORD}).status_code == 429
    with django_capture_on_commit_callbacks(execute=True):
        user_unlock(actor=administrator, user=detective)
    assert sign_in_failures(users=[detective])[detective.pk] == 0
    assert _signs_in(client, detective)
    event = AuditEvent.objects.get(action="user.unlocked")
    assert event.actor == administrator and event.target_id == str(detective.pk)
    assert event.details["failures_forgotten"] >= settings.LOGIN_FAILURE_LIMIT


def test_unlock_also_clears_the_users_own_browsers(client, settings, administrator, detective,
                                                   django_capture_on_commit_callbacks):
    settings.LOGIN_DELAY_MAX_SECONDS = 600
    assert _signs_in(client, detective)  # this browser is now remembered for the user
    client.post(reverse("accounts:logout"))
    _lock_out(client, detective, settings)
    assert not _signs_in(client, detective)
    with django_capture_on_commit_callbacks(execute=True):
        user_unlock(actor=administrator, user=detective)
    assert _signs_in(client, detective)


def test_only_user_managers_unlock(commander, detective):
    with pytest.raises(PermissionDenied):
        user_unlock(actor=commander, user=detective)
    assert not AuditEvent.objects.filter(action="user.unlocked").exists()
