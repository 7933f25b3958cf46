"""Who may run accounts: see the users, create them, set their roles, reset an authenticator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.permissions import capability_refusal
from core.policy import Refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MANAGE_USERS_CAPABILITIES = ("manage_users",)


def manage_users_refusal(*, user: User | None) -> Refusal | None:
    """None when ``user`` (a person) may manage accounts; else why not."""
    return capability_refusal(user=user, capabilities=MANAGE_USERS_CAPABILITIES)


def user_change_refusal(*, actor: User | None) -> Refusal | None:
    """Creating a user or setting their roles: a person needs manage_users. ``actor=None`` is the server itself
    (seed_demo, the benches): whoever runs a management command there already holds the database."""
    if actor is None:
        return None
    return manage_users_refusal(user=actor)
