from __future__ import annotations

from accounts.roles import Role, permission_name


def user_roles(*, user) -> list[str]:
    """The user's role names, sorted; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_lfr_roles", None)
    if cached is None:
        cached = sorted(user.groups.values_list("name", flat=True))
        user._lfr_roles = cached
    return cached


def user_has_role(*, user, role: Role) -> bool:
    return role.value in user_roles(user=user)


def user_can(*, user, capability: str) -> bool:
    return bool(getattr(user, "is_active", False)) and user.has_perm(permission_name(capability))
