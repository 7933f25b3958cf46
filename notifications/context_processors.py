from django.conf import settings


def background_alerts(request) -> dict:
    """The VAPID public key the live page subscribes with (empty: Web Push off, Notification API only)."""
    return {"webpush_public_key": settings.WEBPUSH_VAPID_PUBLIC_KEY if settings.WEBPUSH_ENABLED else ""}
