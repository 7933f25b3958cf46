from __future__ import annotations

from dataclasses import dataclass

from audit.chain import GENESIS_HASH, event_hash
from audit.models import AuditAnchor, AuditEvent
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
    broken_anchor = _first_broken_anchor(head_sequence=head)
    if broken_anchor is not None:
        sequence, reason = broken_anchor
        return ChainReport(False, checked, head or None, previous_hash if head else None, sequence, reason)
    return ChainReport(True, checked, head or None, previous_hash if head else None)


def _first_broken_anchor(*, head_sequence: int) -> tuple[int, str] | None:
    """A chain that verifies on its own may still have been rewritten: compare it with the heads recorded."""
    hashes = dict(AuditEvent.objects.filter(sequence__in=AuditAnchor.objects.values("head_sequence"))
                  .values_list("sequence", "hash"))
    for anchor in AuditAnchor.objects.order_by("head_sequence", "pk"):
        if anchor.head_sequence > head_sequence:
            return anchor.head_sequence, (f"the chain ends at #{head_sequence} but an anchor recorded at "
                                          f"{anchor.recorded_at:%Y-%m-%d %H:%M:%S} saw event #{anchor.head_sequence}: "
                                          f"events were removed")
        if hashes.get(anchor.head_sequence) != anchor.head_hash:
            return anchor.head_sequence, (f"history was rewritten: the anchor recorded at "
                                          f"{anchor.recorded_at:%Y-%m-%d %H:%M:%S} holds a different hash for event "
                                          f"#{anchor.head_sequence}")
    return None
