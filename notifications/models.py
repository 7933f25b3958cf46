from django.conf import settings
from django.db import models
from django.utils import timezone


class PushSubscription(models.Model):
    """One browser's Web Push subscription (PushManager.subscribe): where to send and the keys that encrypt it.

    The endpoint is a capability URL of the push service: whoever holds it can wake that browser, so it is never
    shown or audited in full (the audit names the push service's host)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.CharField(max_length=2048, unique=True)
    p256dh = models.CharField(max_length=100)  # the browser's P-256 public key, base64url
    auth = models.CharField(max_length=40)  # the shared authentication secret, base64url
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.user_id}"
