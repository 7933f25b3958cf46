"""Sign-ins and sign-outs become audit events; failed sign-ins feed the throttle and the per-minute counts.

The client's address of an event is the audit context's (audit/context.py, set by audit.middleware).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from accounts import login_throttle
from accounts.services import login_failures_add
from audit.actions import AuditAction
from audit.services import audit_record
from core.client_address import client_ip


def _on_login(sender, request, user, **kwargs) -> None:
    audit_record(actor=user, action=AuditAction.AUTH_LOGIN, target=user)
    if request is not None:
        login_throttle.login_succeeded(request=request, username=user.get_username())


def _on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditAction.AUTH_LOGOUT, target=user)


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    if request is not None:
        login_throttle.login_failed(request=request, username=username)
    # Counted, not audited one by one: a flood must not queue on the audit chain's lock (docs/accounts.md).
    login_failures_add(username=username, address=client_ip(request) if request is not None else None)


def connect() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="lfr_audit_login")
    user_logged_out.connect(_on_logout, dispatch_uid="lfr_audit_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="lfr_audit_login_failed")
