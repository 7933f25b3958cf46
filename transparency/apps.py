from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    """What the public is told: the notice of each deployment before it, its published record after, the feeds
    and the printable signage. The public pages need no sign-in."""

    name = "transparency"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from transparency import checks  # noqa: F401  (registers the system checks)
