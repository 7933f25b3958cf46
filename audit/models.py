from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class AuditEvent(models.Model):
    """One link of the append-only hash chain. A database trigger refuses UPDATE and DELETE.

    Write only through `audit.services.audit_record`.
    """

    sequence = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    # PROTECT: a user with audit history cannot be deleted, only deactivated.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_username = models.CharField(max_length=150, blank=True)
    actor_roles = models.JSONField(default=list)
    action = models.CharField(max_length=64)  # indexed with sequence (Meta)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    deployment_id = models.BigIntegerField(null=True, blank=True)  # indexed with sequence (Meta)
    details = models.JSONField(default=dict)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # The audit context it was written in (audit/context.py); "" in events older than audit/0008.
    channel = models.CharField(max_length=16, blank=True, default="", db_default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor", "sequence"]),
            # The audit log page's filters, each ordered by sequence for keyset pages (audit/0005).
            models.Index(fields=["actor_username", "sequence"], name="audit_actor_username_seq"),
            models.Index(fields=["action", "sequence"], name="audit_action_seq",
                         opclasses=["varchar_pattern_ops", "int8_ops"]),  # exact and prefix ("alert.")
            models.Index(fields=["deployment_id", "sequence"], name="audit_deployment_seq"),
            GinIndex(fields=["actor_roles"], name="audit_actor_roles_gin", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_username or 'system'}"


class AuditAnchor(models.Model):
    """The chain's head recorded at intervals (beat, hourly) and printed to the log, which is shipped
    elsewhere: rewriting history after the fact, even recomputing every hash, no longer matches."""

    recorded_at = models.DateTimeField(auto_now_add=True)
    head_sequence = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["head_sequence", "pk"]
