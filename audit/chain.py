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


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_event(fields: dict[str, Any]) -> str:
    """`fields` holds HASHED_FIELDS; occurred_at already formatted with format_time."""
    missing = [name for name in HASHED_FIELDS if name not in fields]
    if missing:
        raise ValueError(f"event is missing {missing}")
    return canonical_json({name: fields[name] for name in HASHED_FIELDS})


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_event(fields).encode("utf-8")).hexdigest()
