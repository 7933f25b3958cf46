"""The runtime role's privileges: everything the web, workers and beat need, and on the audit tables only
SELECT and INSERT (no UPDATE, DELETE or TRUNCATE, and as a non-owner it cannot disable their triggers).

Run by the owner of the tables after every migrate (config/management/commands/migrate.py) and by
`manage.py db_grant_runtime`; README "Database roles" has the same SQL for a database administrator.
"""

from __future__ import annotations

from django.db import connections

APPEND_ONLY_TABLES = ("audit_auditevent", "audit_auditanchor")


class RuntimeRoleError(RuntimeError):
    """The runtime role is missing, or could do more than it should (owner, superuser, member of the owner)."""


def runtime_grant_statements(*, role: str, schema: str = "public") -> list[str]:
    from psycopg import sql

    r, s = sql.Identifier(role), sql.Identifier(schema)
    audit = sql.SQL(", ").join(sql.Identifier(schema, t) for t in APPEND_ONLY_TABLES)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r),
        # After the blanket grant: the audit tables keep only SELECT and INSERT, for this role and for PUBLIC.
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}, PUBLIC").format(audit, r),
    ]
    return [statement.as_string() for statement in statements]


def runtime_role_grant(*, role: str, using: str = "default") -> list[str]:
    """Grant `role` the runtime privileges on every table there is now; returns the statements run."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, pg_has_role(%s, current_user, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                       [role, role])
        row = cursor.fetchone()
        if row is None:
            raise RuntimeRoleError(f"the runtime role {role!r} does not exist (README, \"Database roles\")")
        superuser, member_of_owner = row
        if superuser or member_of_owner:
            raise RuntimeRoleError(
                f"the runtime role {role!r} is {'a superuser' if superuser else 'the owner or a member of it'}: "
                f"it could rewrite the audit tables. Use a separate role without those rights.")
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner = %s", [role])
        if cursor.fetchone()[0]:
            raise RuntimeRoleError(f"the runtime role {role!r} owns tables; the owner role must own them all")
        statements = runtime_grant_statements(role=role)
        for statement in statements:
            cursor.execute(statement)
    return statements
