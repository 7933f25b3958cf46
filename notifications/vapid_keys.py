"""VAPID keys as the settings hold them (base64url): made by `manage.py webpush_keys`, checked at start-up."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core import checks
from py_vapid import Vapid


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_key_of(vapid: Vapid) -> str:
    return _b64url(vapid.public_key.public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint))


def vapid_keys_new() -> tuple[str, str]:
    """(public, private): the applicationServerKey and the raw private key."""
    vapid = Vapid()
    vapid.generate_keys()
    return public_key_of(vapid), _b64url(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))


def check_vapid_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """With Web Push on, the public key the pages subscribe with must be the private key's: else every push
    service refuses every push (403), silently for the officers."""
    if not settings.WEBPUSH_ENABLED:
        return []
    try:
        derived = public_key_of(Vapid.from_string(private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY))
    except Exception:
        return [checks.Error("WEBPUSH_VAPID_PRIVATE_KEY is not a base64url P-256 private key",
                             hint="make a pair with `manage.py webpush_keys`", id="notifications.E001")]
    if derived != settings.WEBPUSH_VAPID_PUBLIC_KEY.rstrip("="):
        return [checks.Error("WEBPUSH_VAPID_PUBLIC_KEY is not the public key of WEBPUSH_VAPID_PRIVATE_KEY",
                             hint=f"its public key is {derived}", id="notifications.E002")]
    if not settings.WEBPUSH_VAPID_SUBJECT.startswith(("mailto:", "https:")):
        return [checks.Error("WEBPUSH_VAPID_SUBJECT must be a mailto: or https: address", id="notifications.E003")]
    return []
