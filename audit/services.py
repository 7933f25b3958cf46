from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.anchor_file import anchor_append, read_key
from audit.chain import GENESIS_HASH, event_hash, format_time
from audit.context import current_audit_context
from audit.models import AuditAnchor, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# Any fixed 64-bit key: every appender takes this lock for the rest of its transaction, so
# events are chained one at a time even with many concurrent writers.
AUDIT_CHAIN_LOCK = 0x4C46_5241_5544_4954


def _group_names(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


# The actor's role names, as recorded on each event: their groups, or what accounts registers (its cached
# reading, accounts/apps.py), so that audit imports nothing of accounts.
_actor_roles: Callable[[User], list[str]] = _group_names


def actor_roles_provider_set(provider: Callable[[User], list[str]]) -> None:
    global _actor_roles
    _actor_roles = provider


def _target(target: models.Model | tuple[str, Any] | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        kind, pk = target
        return str(kind), str(pk)
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk)


def _json_safe(details: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip so what we hash is exactly what JSONB gives back (datetimes, UUIDs as strings).
    return json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))


def audit_record(*, actor: User | None, action: AuditAction, target=None, deployment=None,
                 details: dict | None = None) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction when there is one. The client's address,
    the channel and the correlation id are the current audit context's (audit/context.py)."""
    context = current_audit_context()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_type, target_id = _target(target)
    deployment_id = getattr(deployment, "pk", deployment)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
        event = AuditEvent(
            sequence=(last["sequence"] + 1) if last else 1,
            occurred_at=timezone.now(),
            actor=actor,
            actor_username=actor.get_username() if actor else "",
            actor_roles=list(_actor_roles(actor)) if actor else [],
            action=str(action),
            target_type=target_type,
            target_id=target_id,
            deployment_id=int(deployment_id) if deployment_id is not None else None,
            details=_json_safe(details),
            client_ip=context.client_ip,
            channel=context.channel or "",
            correlation_id=context.correlation_id,
            prev_hash=last["hash"] if last else GENESIS_HASH,
        )
        event.hash = event_hash(event_fields(event))
        event.save(force_insert=True)
    return event


def event_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "occurred_at": format_time(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_roles": list(event.actor_roles),
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "deployment_id": event.deployment_id,
        "details": event.details,
        "client_ip": event.client_ip,
        "prev_hash": event.prev_hash,
        "channel": event.channel,
        "correlation_id": event.correlation_id,
    }


def audit_anchor_record() -> AuditAnchor | None:
    """Record the chain's head in the anchor table, in the log and, when AUDIT_ANCHOR_FILE is set, as a
    signed line in that file (beat, hourly, on the anchor worker: the one host holding the key)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    key = None
    if settings.AUDIT_ANCHOR_FILE:
        if not settings.AUDIT_ANCHOR_KEY_FILE:
            raise ImproperlyConfigured("AUDIT_ANCHOR_FILE is set but AUDIT_ANCHOR_KEY_FILE is not: anchors are "
                                       "written by the anchor worker, on the host that holds the key")
        key = read_key(settings.AUDIT_ANCHOR_KEY_FILE)
    head = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    if head is None:
        return None
    anchor = AuditAnchor.objects.create(head_sequence=head["sequence"], head_hash=head["hash"])
    logging.getLogger("audit.anchor").warning("AUDIT ANCHOR %s: event #%s %s", anchor.recorded_at.isoformat(),
                                              anchor.head_sequence, anchor.head_hash)
    if key is not None:
        anchor_append(path=settings.AUDIT_ANCHOR_FILE, key=key, sequence=anchor.head_sequence,
                      head_hash=anchor.head_hash, at=format_time(anchor.recorded_at))
    return anchor
