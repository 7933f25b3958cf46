from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.roles import ROLE_PERMISSIONS, Role
from audit.services import audit_record

User = get_user_model()


def roles_sync() -> None:
    """Make the groups and their permissions match ROLE_PERMISSIONS exactly (runs after migrate)."""
    with transaction.atomic():
        permissions = {p.codename: p for p in Permission.objects.filter(content_type__app_label="accounts")}
        for role, codenames in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=role.value)
            group.permissions.set([permissions[c] for c in sorted(codenames)])


def user_create(*, actor, username: str, password: str, roles: list[Role], full_name: str = "",
                email: str = "", request=None):
    with transaction.atomic():
        first, _, last = full_name.partition(" ")
        user = User.objects.create_user(username=username, password=password, email=email,
                                        first_name=first, last_name=last)
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        audit_record(actor=actor, action="user.created", target=user,
                     details={"username": username, "roles": sorted(r.value for r in roles)}, request=request)
    return user


def user_roles_set(*, actor, user, roles: list[Role], request=None) -> None:
    with transaction.atomic():
        before = sorted(user.groups.values_list("name", flat=True))
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        audit_record(actor=actor, action="user.roles_changed", target=user,
                     details={"before": before, "after": sorted(r.value for r in roles)}, request=request)
