from celery import shared_task
from django.conf import settings

from notifications.push import alert_push_send


@shared_task
def alert_push_send_task(alert_id: int) -> dict:
    return alert_push_send(alert_id=alert_id)


def alert_push_enqueue(alert_id: int) -> None:
    """Called after the commit of a new alert (alerts.broadcast listener, connected in NotificationsConfig)."""
    if settings.WEBPUSH_ENABLED:
        alert_push_send_task.delay(alert_id)
