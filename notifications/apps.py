from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Background alerts: an officer's browser alerted while the live page is hidden or closed (Web Push)."""

    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from alerts.broadcast import alert_created_listener_add
        from notifications.tasks import alert_push_enqueue
        from notifications.vapid_keys import check_vapid_keys

        alert_created_listener_add(alert_push_enqueue)
        checks.register(check_vapid_keys, "notifications")
