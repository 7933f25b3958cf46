"""accounts.services.user_deactivate / user_reactivate: the account stops (or starts again) signing in."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.services import user_deactivate, user_reactivate
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(client_as, administrator, detective):
    from tests.conftest import TEST_PASSWORD

    client = client_as(detective)
    assert client.get(reverse("watchlists:list")).status_code == 200
    user_deactivate(actor=administrator, user=detective)
    detective.refresh_from_db()
    assert not detective.is_active
    assert client.get(reverse("watchlists:list")).status_code == 302  # the session no longer signs them in
    client.logout()
    client.post(reverse("accounts:login"), {"username": detective.username, "password": TEST_PASSWORD})
    assert client.get(reverse("watchlists:list")).status_code == 302
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.actor == administrator and event.details == {"username": detective.username}


def test_a_reactivated_user_signs_in_again(client, administrator, detective):
    from tests.conftest import TEST_PASSWORD

    user_deactivate(actor=administrator, user=detective)
    user_reactivate(actor=administrator, user=detective)
    detective.refresh_from_db()
    assert detective.is_active
    client.post(reverse("accounts:login"), {"username": detective.username, "password": TEST_PASSWORD})
    assert client.get(reverse("watchlists:list")).status_code == 200
    assert list(AuditEvent.objects.filter(target_id=str(detective.pk)).order_by("sequence")
                .values_list("action", flat=True))[-3:] == ["user.deactivated", "user.reactivated", "auth.login"]


def test_nobody_deactivates_themselves(administrator):
    with pytest.raises(ValidationError, match="your own account"):
        user_deactivate(actor=administrator, user=administrator)
    administrator.refresh_from_db()
    assert administrator.is_active and not AuditEvent.objects.filter(action="user.deactivated").exists()


def test_deactivating_twice_or_reactivating_an_active_user_is_refused(administrator, officer):
    with pytest.raises(ValidationError, match="already active"):
        user_reactivate(actor=administrator, user=officer)
    user_deactivate(actor=administrator, user=officer)
    with pytest.raises(ValidationError, match="already deactivated"):
        user_deactivate(actor=administrator, user=officer)
    assert AuditEvent.objects.filter(action="user.deactivated").count() == 1


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "oversight"])
def test_only_user_managers_deactivate(request, role, outsider):
    with pytest.raises(PermissionDenied):
        user_deactivate(actor=request.getfixturevalue(role), user=outsider)
    outsider.refresh_from_db()
    assert outsider.is_active
