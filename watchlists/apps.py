from django.apps import AppConfig


class WatchlistsConfig(AppConfig):
    name = "watchlists"
    default_auto_field = "django.db.models.BigAutoField"
