from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Deployment statistics and per-period transparency reports (read-only over the other apps)."""

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
