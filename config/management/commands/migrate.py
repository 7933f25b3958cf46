"""Django's migrate, run as the owner of the tables, then granting the runtime role its privileges.

With DATABASE_OWNER_URL set the connection switches to that role for the command (same server and
database: only its user and password are taken); with DATABASE_RUNTIME_ROLE set, config/database.py
grants that role what it needs after the migrations.
"""

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from config.database import runtime_role_grant


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        runtime_credentials = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
        owner_url = getattr(settings, "DATABASE_OWNER_URL", "")
        if owner_url and options["database"] == "default":
            import dj_database_url

            owner = dj_database_url.parse(owner_url)
            connection.close()
            connection.settings_dict.update(USER=owner["USER"], PASSWORD=owner["PASSWORD"])
        try:
            super().handle(*args, **options)
            role = getattr(settings, "DATABASE_RUNTIME_ROLE", "")
            if role and role != connection.settings_dict["USER"]:
                runtime_role_grant(role=role, using=options["database"])
                if options["verbosity"] >= 1:
                    self.stdout.write(f"Granted the runtime role {role!r} its privileges "
                                      "(audit tables: SELECT, INSERT only).")
        finally:
            if owner_url and options["database"] == "default":
                connection.close()
                connection.settings_dict.update(runtime_credentials)
