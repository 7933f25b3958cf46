"""Who is asking, from where, through which door: set once per HTTP request, websocket message, Celery task
or management command, and read by `audit.services.audit_record`. Services take `actor=` and their domain
arguments only; the client's address never travels through them.

    with audit_context(channel=Channel.COMMAND):
        ...  # every audit event written here carries channel "command" and one correlation id

Set by: `audit.middleware.audit_context_middleware` (web, api), `alerts.consumers` (socket),
`config.celery.AuditedTask` (task) and `audit.commands.AuditedCommand` (command). Outside all of them (a
shell, a test calling a service directly) the context is empty: no address, no channel, no correlation id.

Kept free of Django and of every app: a contextvars value, copied into threads by asgiref's sync_to_async.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


class Channel(enum.StrEnum):
    WEB = "web"  # a page of the portal
    API = "api"  # the REST API (/api/)
    SOCKET = "socket"  # a websocket (the live alerts page)
    TASK = "task"  # a Celery task, beat's included
    COMMAND = "command"  # a management command


@dataclass(frozen=True)
class AuditContext:
    client_ip: str | None = None
    channel: Channel | None = None
    correlation_id: str = ""


EMPTY = AuditContext()
_current: ContextVar[AuditContext] = ContextVar("audit_context", default=EMPTY)

# What an incoming X-Request-ID may be to be kept as the correlation id: a token, not free text.
CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def correlation_id_new() -> str:
    return uuid.uuid4().hex


def correlation_id_clean(value: str | None) -> str:
    """`value` when it is a plain token of at most 64 characters, otherwise a new id."""
    if value and CORRELATION_ID.fullmatch(value):
        return value
    return correlation_id_new()


def current_audit_context() -> AuditContext:
    return _current.get()


@contextmanager
def audit_context(*, channel: Channel, client_ip: str | None = None,
                  correlation_id: str | None = None) -> Iterator[AuditContext]:
    """Make `AuditContext(client_ip, channel, correlation_id)` current inside the block (a new correlation id
    when none is given); the one before is current again after it."""
    with _current_as(AuditContext(client_ip=client_ip, channel=Channel(channel),
                                  correlation_id=correlation_id or correlation_id_new())) as context:
        yield context


@contextmanager
def audit_context_changed(**changes) -> Iterator[AuditContext]:
    """The current context with some of its fields changed, inside the block (an event written later on
    behalf of an earlier request: its address, in this context's channel and correlation id)."""
    with _current_as(replace(_current.get(), **changes)) as context:
        yield context


@contextmanager
def _current_as(context: AuditContext) -> Iterator[AuditContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
