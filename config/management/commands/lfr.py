import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.launcher import up


class Command(BaseCommand):
    help = ("Run the LFR Portal. `lfr up`: database, Redis, web (HTTP + websockets), the Celery workers (control, "
            "cameras, anchor) and beat. `lfr services`: only the embedded database and Redis.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["up", "services"])
        parser.add_argument("--host", default=os.environ.get("LFR_WEB_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("LFR_WEB_PORT", "8000")))
        parser.add_argument("--concurrency", "--camera-concurrency", dest="camera_concurrency", type=int,
                            default=settings.LFR_CAMERA_CONCURRENCY,
                            help="camera loops at once: processes of the camera worker (LFR_CAMERA_CONCURRENCY)")
        parser.add_argument("--control-concurrency", type=int, default=settings.LFR_CONTROL_CONCURRENCY,
                            help="processes of the control worker: beat jobs, enrolment, imports "
                                 "(LFR_CONTROL_CONCURRENCY)")
        parser.add_argument("--demo", action="store_true", help="seed demo users and data before serving")

    def handle(self, *args, action: str, host: str, port: int, camera_concurrency: int, control_concurrency: int,
               demo: bool, **options) -> None:
        code = up(settings=settings, web_host=host, web_port=port, camera_concurrency=camera_concurrency,
                  control_concurrency=control_concurrency, demo=demo, services_only=action == "services")
        if code:
            raise CommandError(f"lfr {action} ended with status {code}", returncode=code)
