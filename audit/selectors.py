from __future__ import annotations

from dataclasses import dataclass

from audit.chain import GENESIS_HASH, event_hash
from audit.models import AuditEvent
from audit.services import event_fields


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_sequence: int | None
    head_hash: str | None
    broken_sequence: int | None = None
    reason: str = ""


def audit_chain_verify(*, chunk_size: int = 5000) -> ChainReport:
    """Walk the whole chain in order; report the first event that does not hold."""
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=chunk_size):
        if event.sequence != expected_sequence:
            return ChainReport(False, checked, expected_sequence - 1, previous_hash, expected_sequence,
                               f"event #{expected_sequence} is missing (next present is #{event.sequence})")
        if event.prev_hash != previous_hash:
            return ChainReport(False, checked, expected_sequence - 1, previous_hash, event.sequence,
                               f"event #{event.sequence} does not link to the hash of event #{event.sequence - 1}")
        recomputed = event_hash(event_fields(event))
        if recomputed != event.hash:
            return ChainReport(False, checked, expected_sequence - 1, previous_hash, event.sequence,
                               f"event #{event.sequence} ({event.action}) was altered: its content no longer "
                               f"matches its hash")
        previous_hash = event.hash
        expected_sequence += 1
        checked += 1
    head = expected_sequence - 1
    return ChainReport(True, checked, head or None, previous_hash if head else None)
