from __future__ import annotations

from accounts.policies import manage_users_refusal
from core.policy import enforce


def user_roles(*, user) -> list[str]:
    """The user's role names, sorted; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_lfr_roles", None)
    if cached is None:
        cached = sorted(user.groups.values_list("name", flat=True))
        user._lfr_roles = cached
    return cached


# --- multi-factor authentication ---------------------------------------------------------------

def mfa_required(*, user) -> bool:
    """Whether this user must give a TOTP code after the password (settings MFA_REQUIRED_ROLES / _FOR_ALL)."""
    from django.conf import settings

    if not getattr(user, "is_authenticated", False):
        return False
    if settings.MFA_REQUIRED_FOR_ALL or user.is_superuser:
        return True
    return bool(set(user_roles(user=user)) & set(settings.MFA_REQUIRED_ROLES))


def mfa_device(*, user, confirmed: bool = True):
    """The user's TOTP device (confirmed: in use; unconfirmed: an enrolment not finished), or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def mfa_session_verified(*, user, session) -> bool:
    """For code without django-otp's middleware (websockets): did this session give a code of this user's
    current device? A device reset by an administrator no longer counts."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk and device.confirmed


def mfa_satisfied(*, user, session) -> bool:
    return not mfa_required(user=user) or mfa_session_verified(user=user, session=session)


def users_for_management(*, actor):
    """Every account with its roles and whether it has an authenticator enrolled, for the users page."""
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef
    from django_otp.plugins.otp_totp.models import TOTPDevice

    enforce(manage_users_refusal(user=actor))
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (get_user_model().objects.annotate(mfa_enrolled=Exists(enrolled))
            .prefetch_related("groups").order_by("username"))


def access_managed_user(*, actor, id: int):
    """One account, as the users page shows it, for someone who manages users; 404 when there is none."""
    from django.http import Http404

    user = users_for_management(actor=actor).filter(pk=id).first()
    if user is None:
        raise Http404("no such user")
    return user


def sign_in_failures(*, users) -> dict[int, int]:
    """Each user's failed sign-ins counted in the current window (accounts.login_throttle), by user id."""
    from accounts.login_throttle import failures_counted

    users = list(users)
    counted = failures_counted(usernames=[u.get_username() for u in users])
    return {u.pk: counted[u.get_username()] for u in users}


def session_user(*, session_key: str):
    """(user, session) for a stored session that still signs someone in (active, password unchanged), or None
    once it has ended: signed out, expired, deleted, or the account deactivated. For long-lived connections."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.conf import settings
    from django.contrib.auth import get_user

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    user = get_user(SimpleNamespace(session=session))
    if not (user.is_authenticated and user.is_active):
        return None
    return user, session

