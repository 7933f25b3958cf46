"""accounts.services.user_create: an administrator's new account, with the password rules and audited."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.roles import Role
from accounts.services import user_create
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-first-password-7"


def test_an_administrator_creates_an_account_with_its_roles(administrator):
    user = user_create(actor=administrator, username="pc_green", password=PASSWORD,
                       roles=[Role.OFFICER, Role.DETECTIVE], full_name="Pat Green", email="pat@example.org")
    assert user.check_password(PASSWORD) and user.is_active and user.get_full_name() == "Pat Green"
    assert sorted(user.groups.values_list("name", flat=True)) == ["detective", "officer"]
    event = AuditEvent.objects.get(action="user.created")
    assert event.actor == administrator and event.target_id == str(user.pk)
    assert event.details == {"username": "pc_green", "roles": ["detective", "officer"]}


@pytest.mark.parametrize("username, password, message", [
    ("pc_green", "short", "too short"),
    ("pc_green", "password1234", "too common"),
    ("", PASSWORD, "enter a username"),
    ("pc green!", PASSWORD, "Enter a valid username"),
    ("det_smith", PASSWORD, "is taken"),
    ("DET_SMITH", PASSWORD, "is taken"),  # one letter's case apart is too confusing to allow
])
def test_bad_input_is_refused_with_a_reason(administrator, detective, username, password, message):
    with pytest.raises(ValidationError, match=message):
        user_create(actor=administrator, username=username, password=password, roles=[Role.OFFICER])
    assert get_user_model().objects.count() == 2 and not AuditEvent.objects.filter(action="user.created").exists()


def test_an_unknown_role_is_refused(administrator):
    with pytest.raises(ValidationError, match="unknown role"):
        user_create(actor=administrator, username="x_user", password=PASSWORD, roles=["superhero"])


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "oversight", "outsider"])
def test_only_user_managers_create_accounts(request, role):
    with pytest.raises(PermissionDenied):
        user_create(actor=request.getfixturevalue(role), username="x_user", password=PASSWORD, roles=[])
    assert not get_user_model().objects.filter(username="x_user").exists()
