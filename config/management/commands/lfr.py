import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.launcher import up


class Command(BaseCommand):
    help = ("Run the LFR Portal. `lfr up`: database, Redis, web (HTTP + websockets), Celery worker and beat. "
            "`lfr services`: only the embedded database and Redis.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["up", "services"])
        parser.add_argument("--host", default=os.environ.get("LFR_WEB_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("LFR_WEB_PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("LFR_WORKER_CONCURRENCY", "2")))
        parser.add_argument("--demo", action="store_true", help="seed demo users and data before serving")

    def handle(self, *args, action: str, host: str, port: int, concurrency: int, demo: bool, **options) -> None:
        code = up(settings=settings, web_host=host, web_port=port, worker_concurrency=concurrency, demo=demo,
                  services_only=action == "services")
        if code:
            raise CommandError(f"lfr {action} ended with status {code}", returncode=code)
