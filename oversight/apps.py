from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Oversight: reads across every domain app (subject access), so it sits above them all."""

    name = "oversight"
