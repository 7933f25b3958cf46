"""Web Push delivery of a new alert (RFC 8030 with VAPID, RFC 8292, and aes128gcm payload encryption, RFC 8291).

The lock screen is public: the payload names the category and the camera, never the person or a face. The
websocket and the catch-up stay the source of truth; a push that fails is logged and not retried.
"""

from __future__ import annotations

import json
import logging

import requests
from django.conf import settings
from django.urls import reverse
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from alerts.models import Alert
from notifications.selectors import push_subscriptions_of_deployment_officers
from notifications.services import push_subscription_expire

logger = logging.getLogger(__name__)

GONE = (404, 410)  # the push service's word that the subscription is no more


def alert_push_payload(alert: Alert) -> dict:
    return {"alert_id": alert.pk, "deployment_id": alert.deployment_id, "category": alert.get_category_display(),
            "camera": alert.camera.name, "url": reverse("alerts:live", args=[alert.deployment_id])}


def alert_push_send(*, alert_id: int) -> dict:
    """Send the alert to every subscribed browser of the deployment's officers. Counts by outcome."""
    counts = {"sent": 0, "expired": 0, "failed": 0}
    alert = Alert.objects.select_related("camera", "deployment").filter(pk=alert_id).first()
    if alert is None or not settings.WEBPUSH_ENABLED:
        return counts
    data = json.dumps(alert_push_payload(alert))
    vapid = Vapid.from_string(private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY)
    for subscription in push_subscriptions_of_deployment_officers(deployment=alert.deployment):
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            webpush(subscription_info=info, data=data, vapid_private_key=vapid,
                    vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT}, ttl=settings.WEBPUSH_TTL_SECONDS,
                    timeout=settings.WEBPUSH_TIMEOUT_SECONDS, headers={"Urgency": "high"})
            counts["sent"] += 1
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in GONE:
                push_subscription_expire(subscription_id=subscription.pk, status=status)
                counts["expired"] += 1
            else:
                counts["failed"] += 1
                logger.warning("web push of alert %s to subscription %s refused: %s", alert_id, subscription.pk,
                               status or exc.message)
        except requests.RequestException as exc:
            counts["failed"] += 1
            logger.warning("web push of alert %s to subscription %s failed: %s", alert_id, subscription.pk,
                           type(exc).__name__)
    return counts
