"""Web Push subscriptions: a browser that asked for background alerts, and its removal (by its officer, or by
the push service saying it is gone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from audit.actions import AuditAction
from audit.services import audit_record
from core.errors import RuleViolation
from core.policy import enforce
from notifications.models import PushSubscription
from notifications.policies import push_subscription_policy
from notifications.subscription_input import push_service_host, subscription_clean

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def push_subscription_create(*, actor: User, endpoint: object, p256dh: object, auth: object) -> PushSubscription:
    """Store (or renew) the actor's browser subscription. The endpoint is the browser's: signed in as another
    officer, the same browser's subscription moves to them. Sent again unchanged (each page load): nothing written."""
    enforce(push_subscription_policy(user=actor))
    cleaned = subscription_clean(endpoint=endpoint, p256dh=p256dh, auth=auth)
    with transaction.atomic():
        subscription = PushSubscription.objects.select_for_update().filter(endpoint=cleaned.endpoint).first()
        if subscription is not None and (subscription.user_id, subscription.p256dh, subscription.auth) == (
                actor.pk, cleaned.p256dh, cleaned.auth):
            return subscription
        previous_user = None if subscription is None else subscription.user_id
        subscription, _ = PushSubscription.objects.update_or_create(
            endpoint=cleaned.endpoint, defaults={"user": actor, "p256dh": cleaned.p256dh, "auth": cleaned.auth})
        details: dict = {"push_service": cleaned.push_service}
        if previous_user is not None:
            details["renewed"] = True
            if previous_user != actor.pk:
                details["previous_user"] = previous_user
        audit_record(actor=actor, action=AuditAction.PUSH_SUBSCRIPTION_CREATED, target=subscription, details=details)
    return subscription


def push_subscription_delete(*, actor: User, endpoint: object) -> bool:
    """Remove the actor's own subscription of this endpoint (background alerts turned off, or signed out).
    False when they have none: someone else's subscription is not theirs to remove."""
    if not isinstance(endpoint, str) or not endpoint:
        raise RuleViolation("the subscription's endpoint is missing")
    with transaction.atomic():
        subscription = PushSubscription.objects.select_for_update().filter(endpoint=endpoint, user_id=actor.pk).first()
        if subscription is None:
            return False
        audit_record(actor=actor, action=AuditAction.PUSH_SUBSCRIPTION_DELETED, target=subscription,
                     details={"push_service": push_service_host(endpoint)})
        subscription.delete()
    return True


def push_subscription_expire(*, subscription_id: int, status: int) -> bool:
    """The push service answered 404 or 410 for this subscription: it is gone for good (system actor)."""
    with transaction.atomic():
        subscription = PushSubscription.objects.select_for_update().filter(pk=subscription_id).first()
        if subscription is None:
            return False
        audit_record(actor=None, action=AuditAction.PUSH_SUBSCRIPTION_EXPIRED, target=subscription, details={
            "push_service": push_service_host(subscription.endpoint), "status": status,
            "user": subscription.user_id})
        subscription.delete()
    return True
