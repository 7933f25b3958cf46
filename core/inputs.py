"""Reading raw user input (query strings) that no form validates, so a bad value is a 400, never a 500."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import BadRequest

BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint: a larger id would fail in the database, not here


def has_control_characters(value: str) -> bool:
    """NUL (which PostgreSQL text cannot hold), tabs, escapes: nothing a name or reference contains."""
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def without_control_characters(value: str) -> str:
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cc")


def query_int(query, name: str, *, default: int = 0) -> int:
    """A non-negative whole number from a query string (request.GET or DRF's query_params)."""
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) > BIGINT_MAX:
        raise BadRequest(f"{name} must be a whole number between 0 and {BIGINT_MAX}")
    return int(raw)
