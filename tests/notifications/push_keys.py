"""Keys as a browser and a portal make them, for the Web Push tests: a browser's subscription keys (and the private
half that decrypts what it is sent) and a VAPID key pair."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _point(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class BrowserKeys:
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        return b64url(_point(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


def browser_keys() -> BrowserKeys:
    return BrowserKeys(private_key=ec.generate_private_key(ec.SECP256R1()), auth_secret=os.urandom(16))


@dataclass
class VapidKeys:
    public: str  # the applicationServerKey the page subscribes with
    private: str  # raw, base64url: WEBPUSH_VAPID_PRIVATE_KEY
    public_key: ec.EllipticCurvePublicKey


def vapid_keys() -> VapidKeys:
    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return VapidKeys(public=b64url(_point(vapid.public_key)), private=b64url(raw), public_key=vapid.public_key)
