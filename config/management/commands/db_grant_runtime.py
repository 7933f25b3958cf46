from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.database import RuntimeRoleError, runtime_grant_statements, runtime_role_grant


class Command(BaseCommand):
    help = ("Grant the runtime database role (web, workers, beat) its privileges on every table: read and write, "
            "but only SELECT and INSERT on the audit tables. Run as the owner of the tables; `migrate` does it "
            "itself when DATABASE_RUNTIME_ROLE is set.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--role", default=settings.DATABASE_RUNTIME_ROLE or None,
                            help="the runtime role (default: DATABASE_RUNTIME_ROLE)")
        parser.add_argument("--print-sql", action="store_true", help="print the statements instead of running them")

    def handle(self, *args, role: str | None, print_sql: bool, **options) -> None:
        if not role:
            raise CommandError("give --role or set DATABASE_RUNTIME_ROLE")
        if print_sql:
            for statement in runtime_grant_statements(role=role):
                self.stdout.write(statement + ";")
            return
        try:
            runtime_role_grant(role=role)
        except RuntimeRoleError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"granted {role!r} the runtime privileges"))
