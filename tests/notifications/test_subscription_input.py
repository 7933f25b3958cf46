"""notifications.subscription_input: what a browser's subscription must be before the portal stores it and,
later, POSTs to it. A hostile insider may send anything: every refusal is a RuleViolation (400), never a 500."""

from __future__ import annotations

import pytest

from core.errors import RuleViolation
from notifications.subscription_input import subscription_clean
from tests.notifications.push_keys import b64url, browser_keys

FCM = "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b-example"


@pytest.fixture
def keys():
    return browser_keys()


def test_a_browser_subscription_is_accepted_with_its_keys_unpadded(keys):
    cleaned = subscription_clean(endpoint=FCM, p256dh=keys.p256dh + "=", auth=keys.auth + "==")
    assert (cleaned.endpoint, cleaned.p256dh, cleaned.auth) == (FCM, keys.p256dh, keys.auth)
    assert cleaned.push_service == "fcm.googleapis.com"


def test_a_subdomain_of_a_listed_push_service_is_accepted(keys):
    endpoint = "https://wns2-par02p.notify.windows.com/w/?token=abc"
    assert subscription_clean(endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth).endpoint == endpoint


@pytest.mark.parametrize(("endpoint", "says"), [
    (None, "missing"),
    ("", "missing"),
    (["https://fcm.googleapis.com/x"], "missing"),
    ({"url": FCM}, "missing"),
    (42, "missing"),
    ("http://fcm.googleapis.com/fcm/send/x", "https"),
    ("javascript:alert(1)", "https"),
    ("https://user:pw@fcm.googleapis.com/x", "credentials"),
    ("https://fcm.googleapis.com:8443/x", "port 443"),
    ("https://fcm.googleapis.com:99999/x", "not a URL"),
    ("https://127.0.0.1/push", "host name"),
    ("https://[::1]/push", "host name"),
    ("https://10.0.0.5/push", "host name"),
    ("https://intranet.police.local/push", "not a push service"),
    ("https://fcm.googleapis.com.evil.example/x", "not a push service"),
    ("https://evilfcm.googleapis.com.example/x", "not a push service"),
    ("https://notgoogleapis.com/x", "not a push service"),
    ("https://fcm.googleapis.com/x y", "https"),
    ("https://fcm.googleapis.com/" + "a" * 2100, "longer than 2048"),
])
def test_an_endpoint_off_a_push_service_is_refused(keys, endpoint, says):
    with pytest.raises(RuleViolation, match=says):
        subscription_clean(endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth)


def test_an_unlisted_host_is_accepted_once_the_force_lists_its_push_service(keys, settings):
    settings.WEBPUSH_PUSH_SERVICE_HOSTS = ["push.force.police.uk"]
    assert subscription_clean(endpoint="https://push.force.police.uk/s/1", p256dh=keys.p256dh, auth=keys.auth)
    with pytest.raises(RuleViolation, match="not a push service"):
        subscription_clean(endpoint=FCM, p256dh=keys.p256dh, auth=keys.auth)


NOT_ON_THE_CURVE = b64url(b"\x04" + b"\x01" * 64)


@pytest.mark.parametrize(("field", "value", "says"), [
    ("p256dh", None, "p256dh key is missing"),
    ("p256dh", 12345, "p256dh key is missing"),
    ("p256dh", "not base64!", "not base64url"),
    ("p256dh", "a+b/c", "not base64url"),
    ("p256dh", "A" * 101, "not base64url"),
    ("p256dh", b64url(b"\x04" + b"\x00" * 31), "must be 65 bytes"),
    ("p256dh", NOT_ON_THE_CURVE, "not a P-256 public key"),
    ("p256dh", b64url(b"\x02" + b"\x01" * 64), "not a P-256 public key"),
    ("auth", None, "auth key is missing"),
    ("auth", ["x"], "auth key is missing"),
    ("auth", b64url(b"\x00" * 15), "must be 16 bytes"),
    ("auth", b64url(b"\x00" * 64), "must be 16 bytes"),
    ("auth", "A", "not base64url"),
])
def test_keys_a_browser_does_not_make_are_refused(keys, field, value, says):
    values = {"endpoint": FCM, "p256dh": keys.p256dh, "auth": keys.auth, field: value}
    with pytest.raises(RuleViolation, match=says):
        subscription_clean(**values)
