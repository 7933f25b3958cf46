"""Web Push of a new alert (notifications.push, through notifications.tasks): raised by the real alerts service,
sent by pywebpush to a push service, here a local HTTP server standing in for one, which records each POST and
answers as told. The request must be what a real push service takes: VAPID-signed, the payload encrypted
(aes128gcm) for the browser's keys, and what it carries must not name the person."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from dataclasses import dataclass, field

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from audit.models import AuditEvent
from config.celery import app as celery_app
from notifications.models import PushSubscription
from tests.notifications.push_keys import browser_keys, unb64url, vapid_keys

pytestmark = pytest.mark.django_db


@dataclass
class FakePushService:
    base: str
    answer: int = 201
    received: list[dict] = field(default_factory=list)


@pytest.fixture
def push_service():
    service = FakePushService(base="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            service.received.append({"path": self.path, "headers": self.headers, "body": body})
            self.send_response(service.answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


@pytest.fixture
def vapid(settings):
    keys = vapid_keys()
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = keys.public, keys.private
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:lfr-ops@police.example"
    settings.WEBPUSH_ENABLED = True
    return keys


@pytest.fixture
def tasks_run_here():
    """The task runs in this process when the alert commits (the hook enqueues it; no worker needed here)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def _subscribed(user, push_service, name="phone"):
    """Stored directly: the local stand-in is http on 127.0.0.1, which the subscribe service rightly refuses."""
    keys = browser_keys()
    subscription = PushSubscription.objects.create(user=user, endpoint=f"{push_service.base}/push/{name}",
                                                   p256dh=keys.p256dh, auth=keys.auth)
    return subscription, keys


def _vapid_claims(authorization: str, public_key: ec.EllipticCurvePublicKey) -> dict:
    """`vapid t=<JWT>, k=<key>` (RFC 8292): the JWT's ES256 signature must verify with the portal's public key."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    header, claims, signature = fields["t"].split(".")
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        pytest.fail("the VAPID JWT is not signed with WEBPUSH_VAPID_PRIVATE_KEY")
    assert unb64url(fields["k"]) == unb64url(public_key_b64(public_key))
    return json.loads(unb64url(claims))


def public_key_b64(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    point = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def test_a_new_alert_is_pushed_encrypted_and_vapid_signed_to_the_assigned_officer(
        push_service, vapid, tasks_run_here, officer, raise_alert, live_deployment):
    subscription, keys = _subscribed(officer, push_service)

    alert = raise_alert(0)

    assert len(push_service.received) == 1
    request = push_service.received[0]
    headers = request["headers"]
    assert request["path"] == "/push/phone"
    assert headers["Content-Encoding"] == "aes128gcm"
    assert headers["TTL"] == "300" and headers["Urgency"] == "high"
    claims = _vapid_claims(headers["Authorization"], vapid.public_key)
    assert claims["aud"] == push_service.base and claims["sub"] == "mailto:lfr-ops@police.example"
    plaintext = http_ece.decrypt(request["body"], private_key=keys.private_key, auth_secret=keys.auth_secret,
                                 version="aes128gcm")
    payload = json.loads(plaintext)
    assert payload == {"alert_id": alert.pk, "deployment_id": live_deployment.pk,
                       "category": alert.get_category_display(), "camera": alert.camera.name,
                       "url": f"/alerts/deployments/{live_deployment.pk}/live/"}
    assert alert.subject_name.encode() not in plaintext and alert.subject_reference.encode() not in plaintext
    assert alert.subject_name.encode() not in request["body"]  # encrypted: nothing readable on the wire
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()


def test_only_the_deployments_officers_are_pushed_to(push_service, vapid, tasks_run_here, officer, commander,
                                                     make_user, raise_alert):
    from accounts.roles import Role

    _subscribed(officer, push_service, "assigned")
    _subscribed(commander, push_service, "commander")  # watches every deployment, is not on the ground
    _subscribed(make_user(Role.OFFICER, username="pc_elsewhere"), push_service, "not-assigned")
    raise_alert(0)
    assert [r["path"] for r in push_service.received] == ["/push/assigned"]


def test_a_deactivated_officer_is_not_pushed_to(push_service, vapid, tasks_run_here, officer, raise_alert):
    _subscribed(officer, push_service)
    officer.is_active = False
    officer.save()
    raise_alert(0)
    assert push_service.received == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed_audited(push_service, vapid, tasks_run_here,
                                                                         officer, raise_alert, status):
    subscription, _ = _subscribed(officer, push_service)
    push_service.answer = status
    raise_alert(0)
    assert len(push_service.received) == 1
    assert not PushSubscription.objects.filter(pk=subscription.pk).exists()
    event = AuditEvent.objects.get(action="push_subscription.expired")
    assert event.actor is None and event.target_id == str(subscription.pk)
    assert event.details == {"push_service": "127.0.0.1", "status": status, "user": officer.pk}


def test_a_push_service_error_keeps_the_subscription_and_the_alert(push_service, vapid, tasks_run_here, officer,
                                                                   raise_alert):
    from notifications.push import alert_push_send

    subscription, _ = _subscribed(officer, push_service)
    push_service.answer = 500
    alert = raise_alert(0)
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()
    assert not AuditEvent.objects.filter(action="push_subscription.expired").exists()
    assert alert_push_send(alert_id=alert.pk) == {"sent": 0, "expired": 0, "failed": 1}


def test_an_unreachable_push_service_is_counted_not_raised(vapid, officer, raise_alert, push_service):
    from notifications.push import alert_push_send

    keys = browser_keys()
    PushSubscription.objects.create(user=officer, endpoint="http://127.0.0.1:9/push/closed", p256dh=keys.p256dh,
                                    auth=keys.auth)
    alert = raise_alert(0)
    assert alert_push_send(alert_id=alert.pk) == {"sent": 0, "expired": 0, "failed": 1}


def test_with_web_push_off_nothing_is_sent(push_service, settings, tasks_run_here, officer, raise_alert):
    settings.WEBPUSH_ENABLED = False
    _subscribed(officer, push_service)
    raise_alert(0)
    assert push_service.received == []
