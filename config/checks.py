"""System checks for the data stores' credentials (README "Production: external PostgreSQL and Redis")."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.db import connections

from recognition.ml.decision import decision_from_spec


@checks.register(checks.Tags.security, deploy=True)
def check_redis_requires_a_password(app_configs, **kwargs):
    if urlsplit(settings.REDIS_URL).password:
        return []
    return [checks.Warning(
        "REDIS_URL has no password: whoever reaches Redis can queue tasks for the workers, read the alerts on "
        "the channel layer and take camera leases",
        hint="require authentication on Redis (requirepass or an ACL user) and put the password in REDIS_URL: "
             "redis://:PASSWORD@host:6379/0",
        id="config.W001")]


@checks.register(checks.Tags.database)
def check_runtime_role_cannot_rewrite_the_audit_log(app_configs, databases=None, **kwargs):
    """Only with `check --database default`: it asks the server who the portal connects as."""
    if not databases or "default" not in databases:
        return []
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename IN ('audit_auditevent', 'audit_auditanchor') "
                       "AND pg_has_role(current_user, tableowner, 'MEMBER')")
        owner = cursor.fetchone()[0] > 0
    if not (superuser or owner):
        return []
    return [checks.Warning(
        f"DATABASE_URL connects as {'a superuser' if superuser else 'the owner of the audit tables'}, which can "
        "disable their triggers and rewrite the audit chain",
        hint="connect the web, workers and GPU hosts as a runtime role and run migrate with DATABASE_OWNER_URL "
             "(README, \"Database roles\")",
        id="config.W002")]


@checks.register()
def check_alert_decision(app_configs, **kwargs):
    """ALERT_DECISION must name a registered rule with valid options: workers build it at every start."""

    try:
        decision_from_spec(settings.ALERT_DECISION)
    except ValueError as exc:
        return [checks.Error(f"ALERT_DECISION={settings.ALERT_DECISION!r}: {exc}", id="config.E001")]
    return []


MONITORING_TOKEN_MIN_LENGTH = 32


@checks.register(checks.Tags.security, deploy=True)
def check_monitoring_token_is_long(app_configs, **kwargs):
    """The token opens /metrics and the /healthz details to whoever holds it: it must not be guessable."""
    token = settings.MONITORING_TOKEN
    if not token or len(token) >= MONITORING_TOKEN_MIN_LENGTH:
        return []
    return [checks.Warning(
        f"MONITORING_TOKEN is shorter than {MONITORING_TOKEN_MIN_LENGTH} characters",
        hint="generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'", id="config.W003")]
