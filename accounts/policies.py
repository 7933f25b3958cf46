"""Who may run accounts: see the users, create them, set their roles, deactivate, unlock, reset an authenticator."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from accounts.permissions import capability_refusal
from accounts.roles import ROLE_PERMISSIONS, Role
from core.policy import Refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MANAGE_USERS_CAPABILITIES = ("manage_users",)

OWN_DEACTIVATION_REFUSED = "you cannot deactivate your own account: another administrator must"
OWN_MANAGE_USERS_REFUSED = ("you cannot remove your own right to manage users: keep a role that manages users, "
                            "or ask another administrator")


class UserAction(StrEnum):
    """What an administrator may do to one account."""

    CREATE = "create"
    SET_ROLES = "set_roles"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    UNLOCK = "unlock"  # forget the failed sign-ins that hold the account back (accounts.login_throttle)
    RESET_MFA = "reset_mfa"


def manage_users_refusal(*, user: User | None) -> Refusal | None:
    """None when ``user`` (a person) may manage accounts; else why not."""
    return capability_refusal(user=user, capabilities=MANAGE_USERS_CAPABILITIES)


def roles_manage_users(roles: Iterable[Role | str]) -> bool:
    return any("manage_users" in ROLE_PERMISSIONS.get(Role(role), ()) for role in roles)


def user_refusal(*, actor: User | None, action: UserAction, user: User | None = None,
                 roles: Iterable[Role | str] | None = None) -> Refusal | None:
    """None when ``actor`` may do ``action`` to ``user`` (with ``roles``, the roles to set) now; else why not.
    ``actor=None`` is the server itself (seed_demo, the benches): whoever runs a management command there
    already holds the database. Nobody locks themselves out: no deactivating one's own account and no
    removing one's own right to manage users."""
    if actor is None:
        return None
    refusal = manage_users_refusal(user=actor)
    if refusal is not None:
        return refusal
    own = user is not None and user.pk == actor.pk
    if action == UserAction.DEACTIVATE:
        if own:
            return Refusal(OWN_DEACTIVATION_REFUSED, by_rule=True)
        if user is not None and not user.is_active:
            return Refusal(f"{user.get_username()} is already deactivated", by_rule=True)
    if action == UserAction.REACTIVATE and user is not None and user.is_active:
        return Refusal(f"{user.get_username()} is already active", by_rule=True)
    if action == UserAction.SET_ROLES and own and roles is not None and not roles_manage_users(roles):
        return Refusal(OWN_MANAGE_USERS_REFUSED, by_rule=True)
    return None


def user_actions(*, actor: User, user: User) -> set[UserAction]:
    """What ``actor`` may do to ``user`` now: the controls the user's page shows."""
    return {action for action in UserAction if user_refusal(actor=actor, action=action, user=user) is None}


def user_change_refusal(*, actor: User | None) -> Refusal | None:
    """Creating a user or setting their roles, whoever they are (see user_refusal)."""
    return user_refusal(actor=actor, action=UserAction.CREATE)
