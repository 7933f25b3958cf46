"""A browser's push subscription as it arrives (PushSubscription.toJSON()): checked before it is stored.

The server later POSTs to the endpoint, so an endpoint is accepted only on a push service named in
WEBPUSH_PUSH_SERVICE_HOSTS, over https, without credentials or an address of its own; the keys must be what
the browser makes (a P-256 point and a 16-byte secret), so no stored row fails encryption later.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from core.errors import RuleViolation

ENDPOINT_MAX_LENGTH = 2048
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


@dataclass(frozen=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str

    @property
    def push_service(self) -> str:
        return push_service_host(self.endpoint)


def push_service_host(endpoint: str) -> str:
    return urlsplit(endpoint).hostname or ""


def subscription_clean(*, endpoint: object, p256dh: object, auth: object) -> SubscriptionInput:
    """The subscription with its keys unpadded, or RuleViolation saying what is wrong."""
    return SubscriptionInput(endpoint=endpoint_clean(endpoint), p256dh=_key_clean(p256dh, "p256dh", 65),
                             auth=_key_clean(auth, "auth", 16))


def endpoint_clean(endpoint: object) -> str:
    if not isinstance(endpoint, str) or not endpoint:
        raise RuleViolation("the subscription's endpoint is missing")
    if len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise RuleViolation(f"the subscription's endpoint is longer than {ENDPOINT_MAX_LENGTH} characters")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise RuleViolation("the subscription's endpoint is not a URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or parts.username or parts.password or any(c.isspace() for c in endpoint):
        raise RuleViolation("the subscription's endpoint must be an https URL without credentials")
    if port not in (None, 443) or _is_address(host):
        raise RuleViolation("the subscription's endpoint must name its push service by host name, on port 443")
    if not any(host == allowed or host.endswith("." + allowed) for allowed in _allowed_hosts()):
        raise RuleViolation(f"{host} is not a push service this portal sends to")
    return endpoint


def _allowed_hosts() -> list[str]:
    return [h.lower().strip(".") for h in settings.WEBPUSH_PUSH_SERVICE_HOSTS if h.strip(".")]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _key_clean(value: object, name: str, size: int) -> str:
    if not isinstance(value, str) or not value:
        raise RuleViolation(f"the subscription's {name} key is missing")
    if len(value) > 100 or not _BASE64URL.match(value):
        raise RuleViolation(f"the subscription's {name} key is not base64url")
    unpadded = value.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        raise RuleViolation(f"the subscription's {name} key is not base64url") from None
    if len(raw) != size:
        raise RuleViolation(f"the subscription's {name} key must be {size} bytes, not {len(raw)}")
    if name == "p256dh":
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise RuleViolation("the subscription's p256dh key is not a P-256 public key") from None
    return unpadded
