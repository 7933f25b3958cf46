from django.apps import AppConfig


class WatchlistsConfig(AppConfig):
    name = "watchlists"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from watchlists import tasks
        from watchlists.signals import bulk_import_requested, enrolment_requested

        enrolment_requested.connect(tasks.enqueue_enrolment, dispatch_uid="watchlists_enrolment_requested")
        bulk_import_requested.connect(tasks.enqueue_bulk_import, dispatch_uid="watchlists_bulk_import_requested")
