"""accounts.services.user_roles_set: roles changed and audited; nobody removes their own right to manage users."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.permissions import user_can
from accounts.roles import Role
from accounts.services import user_roles_set
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_roles_are_replaced_and_audited(administrator, officer):
    user_roles_set(actor=administrator, user=officer, roles=[Role.OVERSIGHT, Role.DETECTIVE])
    assert sorted(officer.groups.values_list("name", flat=True)) == ["detective", "oversight"]
    assert user_can(user=officer, capability="manage_watchlist")  # the same object sees its new rights
    event = AuditEvent.objects.get(action="user.roles_changed")
    assert event.actor == administrator and event.target_id == str(officer.pk)
    assert event.details == {"before": ["officer"], "after": ["detective", "oversight"]}


def test_an_administrator_may_not_remove_their_own_user_management(administrator):
    with pytest.raises(ValidationError, match="your own right to manage users"):
        user_roles_set(actor=administrator, user=administrator, roles=[Role.OVERSIGHT])
    assert list(administrator.groups.values_list("name", flat=True)) == ["admin"]
    assert not AuditEvent.objects.filter(action="user.roles_changed").exists()


def test_an_administrator_may_add_roles_to_themselves_keeping_admin(administrator):
    user_roles_set(actor=administrator, user=administrator, roles=[Role.ADMIN, Role.OVERSIGHT])
    assert sorted(administrator.groups.values_list("name", flat=True)) == ["admin", "oversight"]


def test_another_administrator_may_remove_an_administrators_role(make_user, administrator):
    other = make_user(Role.ADMIN, username="second_admin")
    user_roles_set(actor=other, user=administrator, roles=[])
    assert not administrator.groups.exists()


def test_only_user_managers_set_roles(commander, officer):
    with pytest.raises(PermissionDenied):
        user_roles_set(actor=commander, user=officer, roles=[Role.ADMIN])
    assert list(officer.groups.values_list("name", flat=True)) == ["officer"]
