"""`migrate` runs as the owner role and grants the runtime role its privileges; the grant refuses a runtime
role that could rewrite the audit tables anyway."""

import io
import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection

from audit.models import AuditEvent
from config.database import RuntimeRoleError, runtime_role_grant


@pytest.mark.django_db(transaction=True)
def test_migrate_connects_as_the_owner_and_then_as_before(settings):
    url = urlsplit(os.environ["DATABASE_URL"])
    settings.DATABASE_OWNER_URL = urlunsplit(url._replace(netloc=f"lfr_owner:wrong-password@{url.hostname}:{url.port}"))
    with pytest.raises(OperationalError, match='password authentication failed for user "lfr_owner"'):
        call_command("migrate", verbosity=0)
    assert AuditEvent.objects.count() == 0  # this process's own credentials are back
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == url.username


@pytest.mark.django_db
def test_the_grant_refuses_a_superuser_or_the_owner_itself():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    for role, reason in ((owner, "superuser|owner"), ("no_such_role", "does not exist")):
        with pytest.raises(RuntimeRoleError, match=reason):
            runtime_role_grant(role=role)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("db_grant_runtime", role="no_such_role")


@pytest.mark.django_db
@pytest.mark.skipif(not os.environ.get("DATABASE_RUNTIME_ROLE"), reason="the test run has no runtime role")
def test_the_grant_leaves_the_audit_tables_select_and_insert_only():
    role = os.environ["DATABASE_RUNTIME_ROLE"]
    runtime_role_grant(role=role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
                       "FROM information_schema.role_table_grants WHERE grantee = %s "
                       "AND table_name IN ('audit_auditevent', 'audit_auditanchor', 'watchlists_subject') "
                       "GROUP BY table_name ORDER BY table_name", [role])
        assert cursor.fetchall() == [("audit_auditanchor", "INSERT,SELECT"), ("audit_auditevent", "INSERT,SELECT"),
                                     ("watchlists_subject", "DELETE,INSERT,SELECT,UPDATE")]


def test_the_sql_for_a_database_administrator_is_printed():
    out = io.StringIO()
    call_command("db_grant_runtime", role="lfr_app", print_sql=True, stdout=out)
    assert ('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON "public"."audit_auditevent", '
            '"public"."audit_auditanchor" FROM "lfr_app", PUBLIC;') in out.getvalue()


@pytest.mark.django_db
def test_the_system_check_warns_when_the_portal_connects_as_superuser_or_owner():
    from config.checks import check_runtime_role_cannot_rewrite_the_audit_log

    assert check_runtime_role_cannot_rewrite_the_audit_log(None, databases=None) == []
    [warning] = check_runtime_role_cannot_rewrite_the_audit_log(None, databases=["default"])  # the test run's superuser
    assert warning.id == "config.W002" and "rewrite the audit chain" in warning.msg


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.skipif(not os.environ.get("LFR_TEST_RUNTIME_DATABASE_URL"), reason="the test run has no runtime role")
def test_the_system_check_is_quiet_for_the_runtime_role():
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import subprocess_database_url

    result = subprocess.run([sys.executable, "manage.py", "check", "--database", "default"],
                            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DATABASE_URL": subprocess_database_url()})
    assert result.returncode == 0 and "config.W002" not in result.stdout + result.stderr, result.stderr
