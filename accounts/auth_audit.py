"""Sign-ins and sign-outs become audit events; failed sign-ins feed the throttle and the per-minute counts.

Also the one definition of a client's address (`client_ip`), used by the audit log and the sign-in limits.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit.services import audit_record


def _on_login(sender, request, user, **kwargs) -> None:
    from accounts import login_throttle

    audit_record(actor=user, action="auth.login", target=user, request=request)
    if request is not None:
        login_throttle.login_succeeded(request=request, username=user.get_username())


def _on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(actor=user, action="auth.logout", target=user, request=request)


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    from accounts import login_throttle
    from accounts.services import login_failures_add

    username = str(credentials.get("username", ""))[:150]
    if request is not None:
        login_throttle.login_failed(request=request, username=username)
    # Counted, not audited one by one: a flood must not queue on the audit chain's lock (docs/accounts.md).
    login_failures_add(username=username, address=client_ip(request) if request is not None else None)


@functools.cache
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(network, strict=False) for network in trusted)


def _address(value: str):
    value = value.strip()
    if value.startswith("["):  # "[2001:db8::1]:443"
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


def client_ip(request) -> str | None:
    """The client's address: the direct peer, unless that peer is a trusted proxy (`TRUSTED_PROXIES`);
    then the right-most address in X-Forwarded-For that is not itself a trusted proxy. Entries left of
    that one were written by the client and could be anything."""
    peer = _address(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not any(peer in network for network in trusted):
        return str(peer)
    current = peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            break  # garbage from a trusted proxy: the last address known to be right is that proxy's
        current = address
        if not any(address in network for network in trusted):
            break
    return str(current)


def connect() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="lfr_audit_login")
    user_logged_out.connect(_on_logout, dispatch_uid="lfr_audit_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="lfr_audit_login_failed")
