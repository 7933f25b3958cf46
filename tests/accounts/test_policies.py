"""accounts/policies.py: who runs accounts; the services that create users and set roles enforce it."""

from __future__ import annotations

import pytest

from accounts.policies import manage_users_refusal, user_change_refusal
from accounts.roles import Role
from core.errors import PermissionDenied

pytestmark = pytest.mark.django_db
ROLES = ["detective", "commander", "officer", "oversight", "administrator", "outsider"]


def test_only_administrators_manage_users(request):
    assert {role for role in ROLES if manage_users_refusal(user=request.getfixturevalue(role)) is None} == {
        "administrator"}
    assert manage_users_refusal(user=None) is not None


def test_the_server_itself_may_create_users():
    assert user_change_refusal(actor=None) is None  # seed_demo, the benches


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "oversight", "outsider"])
def test_user_create_and_roles_set_need_manage_users(request, role, officer):
    from django.contrib.auth import get_user_model

    from accounts.services import user_create, user_roles_set

    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied, match="create users and assign roles"):
        user_create(actor=actor, username="new", password="pw-long-enough-1", roles=[Role.ADMIN])
    with pytest.raises(PermissionDenied, match="create users and assign roles"):
        user_roles_set(actor=actor, user=officer, roles=[Role.ADMIN])
    assert not get_user_model().objects.filter(username="new").exists()
    assert list(officer.groups.values_list("name", flat=True)) == ["officer"]


def test_an_administrator_creates_users_and_sets_roles(administrator):
    from accounts.services import user_create, user_roles_set
    from audit.models import AuditEvent

    user = user_create(actor=administrator, username="new", password="pw-long-enough-1", roles=[Role.OFFICER])
    user_roles_set(actor=administrator, user=user, roles=[Role.OVERSIGHT])
    assert list(user.groups.values_list("name", flat=True)) == ["oversight"]
    assert list(AuditEvent.objects.filter(target_id=str(user.pk)).order_by("sequence")
                .values_list("action", flat=True)) == ["user.created", "user.roles_changed"]


def test_the_user_page_offers_what_the_policy_allows(administrator, officer, commander):
    from accounts.policies import UserAction, user_actions

    assert UserAction.DEACTIVATE in user_actions(actor=administrator, user=officer)
    assert UserAction.REACTIVATE not in user_actions(actor=administrator, user=officer)
    assert UserAction.DEACTIVATE not in user_actions(actor=administrator, user=administrator)  # not oneself
    officer.is_active = False
    assert {UserAction.REACTIVATE, UserAction.UNLOCK} <= user_actions(actor=administrator, user=officer)
    assert UserAction.DEACTIVATE not in user_actions(actor=administrator, user=officer)
    assert user_actions(actor=commander, user=officer) == set()
