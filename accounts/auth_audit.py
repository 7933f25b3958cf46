"""Logins, logouts and failed logins become audit events (Django sends these as signals)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit.services import audit_record


def _on_login(sender, request, user, **kwargs) -> None:
    audit_record(actor=user, action="auth.login", target=user, request=request)


def _on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(actor=user, action="auth.logout", target=user, request=request)


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    known = get_user_model().objects.filter(username=username).first()
    audit_record(actor=None, action="auth.login_failed", target=known,
                 details={"username": username}, request=request)


def client_ip(request) -> str | None:
    """The one definition of a client's address, for lockouts and audit events alike."""
    return request.META.get("REMOTE_ADDR") or None


def _on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    known = get_user_model().objects.filter(username=username).first()
    audit_record(actor=None, action="auth.locked_out", target=known, request=request,
                 details={"username": str(username)[:150], "ip_address": ip_address})


def connect() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_on_locked_out, dispatch_uid="lfr_audit_locked_out")
    user_logged_in.connect(_on_login, dispatch_uid="lfr_audit_login")
    user_logged_out.connect(_on_logout, dispatch_uid="lfr_audit_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="lfr_audit_login_failed")
