from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction

from accounts import login_throttle
from accounts.models import LoginFailureCount
from accounts.policies import UserAction, user_refusal
from accounts.roles import ROLE_PERMISSIONS, Role
from accounts.selectors import mfa_device
from audit.actions import AuditAction
from audit.context import audit_context_changed
from audit.services import audit_record
from core.errors import RuleViolation
from core.policy import enforce

if TYPE_CHECKING:  # the annotations name the user model; at run time it is whatever AUTH_USER_MODEL says
    from django.contrib.auth.models import User
else:
    User = get_user_model()


def roles_sync() -> list[str]:
    """Make the groups and their permissions match ROLE_PERMISSIONS exactly (runs after migrate). Every role
    whose permissions change is audited (``role.permissions_changed``, with what was added and removed); a
    group created here has no members yet, so nobody's rights change. Returns the roles changed."""
    changed = []
    with transaction.atomic():
        permissions = {p.codename: p for p in Permission.objects.filter(content_type__app_label="accounts")}
        for role, codenames in ROLE_PERMISSIONS.items():
            group, created = Group.objects.get_or_create(name=role.value)
            before = set() if created else set(group.permissions.filter(content_type__app_label="accounts")
                                               .values_list("codename", flat=True))
            others = not created and group.permissions.exclude(content_type__app_label="accounts").exists()
            group.permissions.set([permissions[c] for c in sorted(codenames)])
            if not created and (before != set(codenames) or others):
                changed.append(role.value)
                audit_record(actor=None, action=AuditAction.ROLE_PERMISSIONS_CHANGED, target=group,
                             details={"role": role.value, "added": sorted(set(codenames) - before),
                                      "removed": sorted(before - set(codenames)),
                                      "other_permissions_removed": others})
    return changed


def _roles(roles) -> list[Role]:
    try:
        return sorted({Role(r) for r in roles})
    except ValueError:
        raise RuleViolation(f"unknown role: choose from {', '.join(r.value for r in Role)}") from None


def user_create(*, actor: User | None, username: str, password: str, roles: list[Role], full_name: str = "",
                email: str = ""):
    """A new account with these roles; ``actor`` needs manage_users (None: the server itself, seed_demo). A
    person's new account gets a password that meets the password rules (the user changes it later)."""
    enforce(user_refusal(actor=actor, action=UserAction.CREATE))
    roles = _roles(roles)
    username = (username or "").strip()
    first, _, last = full_name.strip().partition(" ")
    if actor is not None:
        from django.contrib.auth.password_validation import validate_password

        if not username:
            raise RuleViolation("enter a username")
        User._meta.get_field("username").run_validators(username)  # letters, digits and @.+-_, 150 at most
        validate_password(password, user=User(username=username, email=email, first_name=first, last_name=last))
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise RuleViolation(f"the username {username!r} is taken: choose another")
        try:
            with transaction.atomic():
                user = User.objects.create_user(username=username, password=password, email=email,
                                                first_name=first, last_name=last)
        except IntegrityError:  # created at the same moment by someone else
            raise RuleViolation(f"the username {username!r} is taken: choose another") from None
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        audit_record(actor=actor, action=AuditAction.USER_CREATED, target=user,
                     details={"username": username, "roles": sorted(r.value for r in roles)})
    return user


def user_roles_set(*, actor: User | None, user, roles: list[Role]) -> None:
    """Replace the user's roles. Nobody removes their own right to manage users (accounts.policies)."""
    enforce(user_refusal(actor=actor, action=UserAction.SET_ROLES, user=user))  # the role first: no probing
    roles = _roles(roles)
    enforce(user_refusal(actor=actor, action=UserAction.SET_ROLES, user=user, roles=roles))
    with transaction.atomic():
        before = sorted(user.groups.values_list("name", flat=True))
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        audit_record(actor=actor, action=AuditAction.USER_ROLES_CHANGED, target=user,
                     details={"before": before, "after": sorted(r.value for r in roles)})
    user.__dict__.pop("_lfr_roles", None)
    for cache in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)


def _active_set(*, actor: User, user, active: bool):
    action = UserAction.REACTIVATE if active else UserAction.DEACTIVATE
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        enforce(user_refusal(actor=actor, action=action, user=locked))
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit_record(actor=actor, action=AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
                     target=locked, details={"username": locked.get_username()})
    user.is_active = active
    return locked


def user_deactivate(*, actor: User, user):
    """The account can no longer sign in; its sessions end at their next request (Django refuses an inactive
    user's session) and its websockets at their next check (accounts.selectors.session_user). Nothing it did
    is removed. Nobody deactivates their own account."""
    return _active_set(actor=actor, user=user, active=False)


def user_reactivate(*, actor: User, user):
    return _active_set(actor=actor, user=user, active=True)


def user_unlock(*, actor: User, user) -> None:
    """Forget the account's failed sign-ins (accounts.login_throttle), so a user held back by wrong passwords
    (theirs or a stranger's) may sign in at once. Redis is cleared after the audit event is committed."""
    enforce(user_refusal(actor=actor, action=UserAction.UNLOCK, user=user))
    username = user.get_username()
    failures = login_throttle.failures_counted(usernames=[username])[username]
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.USER_UNLOCKED, target=user,
                     details={"username": username, "failures_forgotten": failures})
        transaction.on_commit(lambda: login_throttle.account_unlock(username=username))


# --- multi-factor authentication ---------------------------------------------------------------
# The services check codes and write the audit trail; marking the session verified (django_otp.login)
# is the view's job, as signing in is.

MFA_DEVICE_NAME = "Authenticator app"


def mfa_enrolment_start(*, user: User):
    """The user's pending TOTP device (created on first call; the same one, so the same QR code, after)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        if mfa_device(user=user) is not None:
            raise RuleViolation("an authenticator is already enrolled for this account; an administrator can "
                                "reset it if the phone was lost")
        device = mfa_device(user=user, confirmed=False)
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=MFA_DEVICE_NAME, confirmed=False)
            audit_record(actor=user, action=AuditAction.MFA_ENROLMENT_STARTED, target=user)
    return device


def mfa_enrolment_confirm(*, user: User, token: str):
    """Finish enrolment with a code from the new authenticator; returns the now confirmed device."""
    return _mfa_check(user=user, token=token, confirmed=False)


def mfa_verify(*, user: User, token: str):
    """Check a sign-in code against the user's device; returns the device. Codes are single use (django-otp
    keeps the last accepted time step), one step of clock drift either way is accepted, and wrong codes
    make the next try wait 1, 2, 4... seconds (times MFA_THROTTLE_SECONDS)."""
    return _mfa_check(user=user, token=token, confirmed=True)


def _mfa_check(*, user: User, token: str, confirmed: bool):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    stage = "sign_in" if confirmed else "enrolment"
    token = "".join((token or "").split())
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=user, confirmed=confirmed).order_by("pk").first())
        if device is None:
            raise RuleViolation("no authenticator is waiting for a code; start again from the sign-in page")
        allowed, _ = device.verify_is_allowed()
        verified = allowed and device.verify_token(token)  # records the step used, or counts the failure
        if verified:
            if not confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            audit_record(actor=user, action=AuditAction.MFA_VERIFIED if confirmed else AuditAction.MFA_ENROLLED,
                         target=user, details={"device_id": device.pk})
        else:
            audit_record(actor=user, action=AuditAction.MFA_FAILED, target=user,
                         details={"stage": stage, "reason": "wrong_code" if allowed else "throttled",
                                  "consecutive_failures": device.throttling_failure_count})
    # Raised after the commit, so the failure count and its audit event stay.
    if not allowed:
        raise RuleViolation("too many wrong codes: wait a few seconds, then enter the newest code")
    if not verified:
        raise RuleViolation("that code is not right or has already been used: enter the newest code from "
                            "your authenticator app")
    return device


def mfa_device_reset(*, actor: User, user) -> int:
    """Remove the user's authenticator (a lost phone): their next sign-in enrols a new one. Any session
    verified with the old device is no longer verified. Returns how many devices were removed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    enforce(user_refusal(actor=actor, action=UserAction.RESET_MFA, user=user))
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_record(actor=actor, action=AuditAction.MFA_RESET, target=user,
                     details={"username": user.get_username(), "devices_removed": removed})
    return removed


# --- failed sign-ins ---------------------------------------------------------------------------
# Counted per username, address and minute (an upsert, no chain lock), and audited as one event per
# count once the minute has closed: a flood of wrong passwords costs one row update each, not a turn on
# the audit chain's lock. The counts and the events are in Postgres together, so none is lost.

LOGIN_FAILURES_GRACE_SECONDS = 10  # a request that began in a minute may count into it a little after


def login_failures_add(*, username: str, address: str | None, at=None) -> None:
    from django.db import connection
    from django.utils import timezone

    minute = (at or timezone.now()).replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_loginfailurecount (minute, username, address, count) VALUES (%s, %s, %s, 1)
            ON CONFLICT (minute, username, address) DO UPDATE SET count = accounts_loginfailurecount.count + 1
            """,
            [minute, username[:150], address or ""],
        )


def login_failures_audit(*, actor: User | None = None, now=None) -> int:
    """One `auth.login_failed` event per (username, address, minute) for the minutes that have closed,
    each count deleted in the same transaction as its event (beat, every minute). Returns events written."""
    import datetime as dt

    from django.utils import timezone

    closed_before = ((now or timezone.now()) - dt.timedelta(seconds=LOGIN_FAILURES_GRACE_SECONDS)).replace(
        second=0, microsecond=0)
    with transaction.atomic():
        counts = list(LoginFailureCount.objects.select_for_update(skip_locked=True)
                      .filter(minute__lt=closed_before).order_by("minute", "username", "address"))
        users = {u.username: u for u in User.objects.filter(username__in={c.username for c in counts})}
        for count in counts:
            with audit_context_changed(client_ip=count.address or None):  # the address of the requests counted
                audit_record(actor=actor, action=AuditAction.AUTH_LOGIN_FAILED, target=users.get(count.username),
                             details={"username": count.username, "address": count.address or None,
                                      "count": count.count, "minute": count.minute.isoformat()})
        LoginFailureCount.objects.filter(pk__in=[c.pk for c in counts]).delete()
    return len(counts)
