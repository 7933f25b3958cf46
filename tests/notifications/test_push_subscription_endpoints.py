"""POST /notifications/push/subscribe/ and /unsubscribe/ (the live page's script), and /sw.js, the service worker."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from notifications.models import PushSubscription
from tests.conftest import mfa_verify_session
from tests.notifications.push_keys import browser_keys

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/notifications/push/subscribe/"
UNSUBSCRIBE = "/notifications/push/unsubscribe/"
ENDPOINT = "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABexample"


def _subscription(keys=None) -> dict:
    keys = keys or browser_keys()
    return {"endpoint": ENDPOINT, "expirationTime": None, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}


def _post(client, url, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def test_the_live_pages_script_subscribes_the_browser(client_as, officer):
    response = _post(client_as(officer), SUBSCRIBE, _subscription())
    assert response.status_code == 201 and response.json() == {"subscribed": True}
    assert PushSubscription.objects.get().user == officer


def test_a_role_that_sees_no_alerts_is_refused_403(client_as, detective):
    response = _post(client_as(detective), SUBSCRIBE, _subscription())
    assert response.status_code == 403 and response.json()["errors"]
    assert not PushSubscription.objects.exists()


def test_without_the_csrf_token_it_is_refused(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    mfa_verify_session(client.session, officer)
    assert _post(client, SUBSCRIBE, _subscription()).status_code == 403
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(("body", "says"), [
    ("{not json", "could not be read"),
    ("[1, 2]", "JSON object"),
    ('"https://fcm.googleapis.com/x"', "JSON object"),
    ({}, "endpoint is missing"),
    ({"endpoint": ENDPOINT, "keys": "p256dh"}, "p256dh key is missing"),
    ({"endpoint": "https://metadata.internal/latest", "keys": {}}, "not a push service"),
    ({"endpoint": ENDPOINT, "keys": {"p256dh": "x" * 9000, "auth": "y"}}, "too large"),
])
def test_a_bad_subscription_is_a_400_with_the_reason(client_as, officer, body, says):
    response = _post(client_as(officer), SUBSCRIBE, body)
    assert response.status_code == 400
    assert says in " ".join(response.json()["errors"])
    assert not PushSubscription.objects.exists()


def test_a_form_post_is_refused_400(client_as, officer):
    response = client_as(officer).post(SUBSCRIBE, {"endpoint": ENDPOINT})
    assert response.status_code == 400 and "JSON" in response.json()["errors"][0]


def test_the_browser_unsubscribes(client_as, officer):
    client = client_as(officer)
    _post(client, SUBSCRIBE, _subscription())
    response = _post(client, UNSUBSCRIBE, {"endpoint": ENDPOINT})
    assert response.status_code == 200 and response.json() == {"removed": True}
    assert not PushSubscription.objects.exists()
    assert _post(client, UNSUBSCRIBE, {"endpoint": ENDPOINT}).json() == {"removed": False}


def test_anonymous_callers_are_sent_to_sign_in(client):
    response = _post(client, SUBSCRIBE, _subscription())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_service_worker_is_served_from_the_root_as_a_script(client):
    response = client.get("/sw.js")  # public: the browser checks it for updates with or without a session
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/" and response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'addEventListener("push"' in body and 'addEventListener("notificationclick"' in body
    assert "importScripts(\"/static/js/alert_notification.js\")" in body


def test_the_live_page_offers_background_alerts_with_the_push_key_only_when_web_push_is_on(
        client_as, officer, live_deployment, settings):
    client = client_as(officer)
    page = client.get(f"/alerts/deployments/{live_deployment.pk}/live/").content.decode()
    assert 'id="background-alerts"' in page and 'data-push-key=""' in page and "js/background_alerts.js" in page
    settings.WEBPUSH_ENABLED, settings.WEBPUSH_VAPID_PUBLIC_KEY = True, "BPublicKeyForTheBrowser"
    page = client.get(f"/alerts/deployments/{live_deployment.pk}/live/").content.decode()
    assert 'data-push-key="BPublicKeyForTheBrowser"' in page
