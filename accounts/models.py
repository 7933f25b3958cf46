from django.db import models

from accounts.roles import CAPABILITIES


class Capability(models.Model):
    """Holds the project's capability permissions; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())
