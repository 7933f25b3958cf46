"""The hash chain: canonical serialisation of an event and its SHA-256.

Kept free of the ORM so an exported log can be verified offline with the same code.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "sequence", "occurred_at", "actor_id", "actor_username", "actor_roles", "action",
    "target_type", "target_id", "deployment_id", "details", "client_ip", "prev_hash",
)
# Added after the first events were written (audit/0008): hashed only when not empty, so every event written
# before them keeps its hash and every export of them still verifies. Emptying one of a newer event, or
# setting one on an older event, changes the hash like any other edit.
HASHED_IF_SET = ("channel", "correlation_id")


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_event(fields: dict[str, Any]) -> str:
    """`fields` holds HASHED_FIELDS, and HASHED_IF_SET where it has them; occurred_at already formatted with
    format_time."""
    missing = [name for name in HASHED_FIELDS if name not in fields]
    if missing:
        raise ValueError(f"event is missing {missing}")
    hashed = {name: fields[name] for name in HASHED_FIELDS}
    hashed.update({name: fields[name] for name in HASHED_IF_SET if fields.get(name)})
    return canonical_json(hashed)


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_event(fields).encode("utf-8")).hexdigest()
