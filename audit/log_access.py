"""Reads of the audit log that are themselves audited: opening one event, exporting. These check the reader's
capability (accounts), so they sit above accounts, with the audit log pages and API; ``audit.services``, the
chain's writer, sits below accounts (docs/architecture.md, Layers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from accounts.permissions import require_capability
from audit.actions import AuditAction
from audit.export import EXPORT_FORMATS
from audit.models import AuditEvent
from audit.services import audit_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from audit.filters import AuditFilter


def audit_event_view_record(*, actor: User, event: AuditEvent) -> AuditEvent:
    """Opening one event's page is recorded (browsing and searching the list is not: docs/audit.md)."""
    require_capability(user=actor, capability="view_audit_log")
    return audit_record(actor=actor, action=AuditAction.AUDIT_EVENT_VIEWED, target=("audit.auditevent", event.sequence))


def audit_export_record(*, actor: User, filters: AuditFilter, export_format: str) -> AuditEvent:
    """Record an export in its own transaction, committed before the first byte is streamed: the
    export then covers the events up to and including this one."""
    require_capability(user=actor, capability="export_audit_log")
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    with transaction.atomic():
        return audit_record(actor=actor, action=AuditAction.AUDIT_EXPORTED,
                            details={"filter": filters.as_dict(), "format": export_format})
