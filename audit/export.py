"""A streamed, verifiable export of the audit log: one zip holding the events (CSV or JSON Lines),
manifest.json and verify_export.py.

Nothing is held in memory but one chunk of rows: the events come from a server-side cursor, and the
zip is written to a sink drained after every chunk (zipfile writes to a non-seekable stream with data
descriptors). The manifest is the last member, so it can carry the count, hashes and SHA-256 measured
while streaming.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models.expressions import RawSQL
from django.utils import timezone

from audit import verify_export
from audit.chain import format_time
from audit.filters import AuditFilter
from audit.models import AuditAnchor, AuditEvent

EXPORT_FORMATS = tuple(verify_export.EVENT_FILES)
CHUNK_ROWS = 2000
FLUSH_BYTES = 256 * 1024
VERIFIER_SOURCE = Path(verify_export.__file__)
_VALUES = ("sequence", "occurred_at", "actor_id", "actor_username", "actor_roles", "action", "target_type",
           "target_id", "deployment_id", "details", "client_ip", "prev_hash", "channel", "correlation_id", "hash")


@dataclass
class ExportSummary:
    """What the manifest says about the events file, measured while it is written."""

    count: int = 0
    first_sequence: int | None = None
    first_hash: str | None = None
    last_sequence: int | None = None
    last_hash: str | None = None
    prev_hash: str | None = None
    contiguous: bool = True
    sha256: hashlib._Hash = field(default_factory=hashlib.sha256)

    def add(self, event: dict) -> None:
        if self.count == 0:
            self.first_sequence, self.first_hash, self.prev_hash = event["sequence"], event["hash"], event["prev_hash"]
        elif event["sequence"] != self.last_sequence + 1:
            self.contiguous = False
        self.last_sequence, self.last_hash = event["sequence"], event["hash"]
        self.count += 1


# audit.chain.format_time done by PostgreSQL: parsing and formatting a datetime per row in Python costs
# a fifth of the export's time. A test compares every exported row with audit.services.event_fields.
UTC_TEXT = RawSQL("""to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""", [])


def export_events(*, filters: AuditFilter, up_to: int, chunk_size: int = CHUNK_ROWS) -> Iterator[dict]:
    """The selected events up to sequence `up_to`, oldest first, as the chain hashes them
    (audit.services.event_fields) plus their stored hash, through a server-side cursor."""
    names = tuple(name if name != "occurred_at" else "occurred_utc" for name in _VALUES)
    rows = (AuditEvent.objects.filter(filters.q(), sequence__lte=up_to).order_by("sequence")
            .annotate(occurred_utc=UTC_TEXT).values_list(*names).iterator(chunk_size=chunk_size))
    for row in rows:
        yield dict(zip(_VALUES, row))


def _encode_lines(events: Iterable[dict], export_format: str) -> Iterator[tuple[dict, bytes]]:
    if export_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(verify_export.COLUMNS)
        yield {}, buffer.getvalue().encode("utf-8")
        for event in events:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(verify_export.row_to_csv(event))
            yield event, buffer.getvalue().encode("utf-8")
    else:
        for event in events:
            yield event, (verify_export.canonical_json(event) + "\n").encode("utf-8")


class _Sink(io.RawIOBase):
    """A write-only, non-seekable stream whose bytes are taken out as they come."""

    def __init__(self):
        self._parts: list[bytes] = []
        self.pending = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self.pending += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.pending = 0
        return data


def bundle_name(*, export_event: AuditEvent) -> str:
    return f"audit-export-{export_event.occurred_at:%Y%m%d-%H%M%S}-{export_event.sequence}.zip"


def export_bundle(*, filters: AuditFilter, export_format: str, export_event: AuditEvent,
                  events: Iterable[dict] | None = None) -> Iterator[bytes]:
    """The zip bundle, chunk by chunk. `export_event` is the audit event recording this export
    (`audit.services.audit_export_record`); the export covers the events up to it."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    if events is None:
        events = export_events(filters=filters, up_to=export_event.sequence)
    sink = _Sink()
    summary = ExportSummary()
    events_name = verify_export.EVENT_FILES[export_format]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("verify_export.py", VERIFIER_SOURCE.read_bytes())
        yield sink.take()
        with archive.open(events_name, "w", force_zip64=True) as member:
            for event, data in _encode_lines(events, export_format):
                if event:
                    summary.add(event)
                summary.sha256.update(data)
                member.write(data)
                if sink.pending >= FLUSH_BYTES:
                    yield sink.take()
        manifest = _manifest(filters=filters, export_format=export_format, export_event=export_event,
                             summary=summary)
        archive.writestr(verify_export.MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    yield sink.take()


def _manifest(*, filters: AuditFilter, export_format: str, export_event: AuditEvent, summary: ExportSummary) -> dict:
    return {
        "format": verify_export.FORMAT_NAME,
        "format_version": verify_export.FORMAT_VERSION,
        "events_file": verify_export.EVENT_FILES[export_format],
        "events_format": export_format,
        "filter": filters.as_dict(),
        "up_to_sequence": export_event.sequence,
        "count": summary.count,
        "first_sequence": summary.first_sequence,
        "first_hash": summary.first_hash,
        "last_sequence": summary.last_sequence,
        "last_hash": summary.last_hash,
        "prev_hash": summary.prev_hash,
        "contiguous": summary.contiguous,
        "events_sha256": summary.sha256.hexdigest(),
        "generated_at": format_time(timezone.now()),
        "exported_by": export_event.actor_username,
        "export_event": {"sequence": export_event.sequence, "hash": export_event.hash},
        "anchors": _anchors_within(summary),
        "hash": {
            "algorithm": "sha256",
            "fields": list(verify_export.HASHED_FIELDS),
            "fields_if_set": list(verify_export.HASHED_IF_SET),
            "canonical_form": "JSON, keys sorted, no whitespace, UTF-8 (not ASCII-escaped), "
                              "times YYYY-MM-DDTHH:MM:SS.ffffffZ",
        },
        "csv_conventions": "actor_roles and details hold canonical JSON; an empty actor_id, deployment_id or "
                           "client_ip is null; an empty channel or correlation_id is left out of the hash",
        "verify_with": "python verify_export.py <this bundle.zip>",
    }


def _anchors_within(summary: ExportSummary) -> list[dict]:
    """The chain heads recorded (hourly, and printed to the log) inside the exported range: an exported event
    with the anchored sequence must carry the anchored hash, and a reader can compare them with the log."""
    if summary.first_sequence is None:
        return []
    anchors = AuditAnchor.objects.filter(head_sequence__range=(summary.first_sequence, summary.last_sequence))
    return [{"recorded_at": format_time(anchor.recorded_at), "head_sequence": anchor.head_sequence,
             "head_hash": anchor.head_hash} for anchor in anchors.order_by("head_sequence", "pk")]


async def as_async(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Serve a synchronous generator chunk by chunk under ASGI. Django would otherwise read a sync
    iterator to the end before sending (StreamingHttpResponse.__aiter__), holding the whole export in
    memory. Each step runs in the request's one sync thread, so the server-side cursor stays on the
    same database connection."""
    from asgiref.sync import sync_to_async

    step = sync_to_async(next, thread_sensitive=True)
    done = object()
    try:
        while (chunk := await step(chunks, done)) is not done:
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=True)()
