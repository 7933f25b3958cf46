"""The one definition of a client's address, used by the audit context (audit.middleware, the alerts
websocket) and the sign-in limits (accounts.login_throttle)."""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings


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


def client_address(*, peer: str, forwarded_for: str = "") -> str | None:
    """The client's address: the direct peer, unless that peer is a trusted proxy (`TRUSTED_PROXIES`);
    then the right-most address in X-Forwarded-For that is not itself a trusted proxy. Entries left of
    that one were written by the client and could be anything."""
    address = _address(peer or "")
    if address is None:
        return None
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not any(address in network for network in trusted):
        return str(address)
    current = address
    for hop in reversed((forwarded_for or "").split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            break  # garbage from a trusted proxy: the last address known to be right is that proxy's
        current = hop_address
        if not any(hop_address in network for network in trusted):
            break
    return str(current)


def client_ip(request) -> str | None:
    """`client_address` of a Django request."""
    return client_address(peer=request.META.get("REMOTE_ADDR") or "",
                          forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""))


def scope_client_ip(scope: dict) -> str | None:
    """`client_address` of an ASGI connection (a websocket): scope["client"] and its X-Forwarded-For."""
    client = scope.get("client") or ("", None)
    forwarded = b",".join(value for name, value in scope.get("headers") or () if name.lower() == b"x-forwarded-for")
    return client_address(peer=str(client[0] or ""), forwarded_for=forwarded.decode("latin-1"))
