from django.db import models

from accounts.roles import CAPABILITIES


class Capability(models.Model):
    """Holds the project's capability permissions; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())


class LoginFailureCount(models.Model):
    """Failed sign-ins per username, address and minute, until `login_failures_audit` turns a closed
    minute into one audit event (so a flood does not queue on the audit chain's lock)."""

    minute = models.DateTimeField()
    username = models.CharField(max_length=150)
    address = models.CharField(max_length=45, blank=True)  # "" when unknown
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["minute", "username", "address"],
                                               name="one_login_failure_count_per_minute")]
