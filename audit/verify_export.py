#!/usr/bin/env python3
"""Verify an LFR Portal audit log export offline, with nothing but Python 3.9+.

    python verify_export.py audit-export.zip            # the bundle as downloaded
    python verify_export.py events.csv                  # or the events file, manifest.json beside it

Checks that every event's hash recomputes from its content, that each event links to the one before
it wherever their sequence numbers are consecutive (an unfiltered export links all the way back to
the manifest's `prev_hash`), and that the event count, first and last events and the SHA-256 of the
events file match manifest.json. Prints the first problem with its line number and exits 1; exits 0
when the export holds. What it proves: the file is internally consistent and unchanged since export.
The manifest lists the chain heads the portal anchored inside the range (hourly, also printed to its
log as `AUDIT ANCHOR ...`); each must match the exported event, and the report prints them so they can
be compared with the log, which proves the export is the portal's own history, not a recomputed one.

This file is copied into every export bundle, and `manage.py audit_verify --export` runs this same
code; the canonical form below must stay identical to audit/chain.py (a test compares them).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT_NAME = "lfr-audit-export"
FORMAT_VERSION = 2
GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "sequence", "occurred_at", "actor_id", "actor_username", "actor_roles", "action",
    "target_type", "target_id", "deployment_id", "details", "client_ip", "prev_hash",
)
# Hashed only when not empty: events written before these existed keep their hash.
HASHED_IF_SET = ("channel", "correlation_id")
COLUMNS = HASHED_FIELDS + HASHED_IF_SET + ("hash",)
# The events file's columns in each format version this script reads: version 1 exports (before channel and
# correlation_id) verify as they did.
VERSION_COLUMNS = {1: HASHED_FIELDS + ("hash",), 2: COLUMNS}
EVENT_FILES = {"csv": "events.csv", "jsonl": "events.jsonl"}
MANIFEST = "manifest.json"


# --- the chain's canonical form (identical to audit/chain.py) -------------------------------------

def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(fields: dict[str, Any]) -> str:
    hashed = {name: fields[name] for name in HASHED_FIELDS}
    hashed.update({name: fields[name] for name in HASHED_IF_SET if fields.get(name)})
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()


# --- rows ----------------------------------------------------------------------------------------
# CSV: actor_roles and details are canonical JSON; an empty actor_id, deployment_id or client_ip is null.

def row_to_csv(event: dict[str, Any]) -> list[str]:
    def cell(name: str) -> str:
        value = event[name]
        if name in ("actor_roles", "details"):
            return canonical_json(value)
        return "" if value is None else str(value)

    return [cell(name) for name in COLUMNS]


def row_from_csv(cells: list[str], columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    if len(cells) != len(columns):
        raise ValueError(f"{len(cells)} columns instead of {len(columns)}")
    event: dict[str, Any] = dict(zip(columns, cells))
    event["sequence"] = int(event["sequence"])
    for name in ("actor_id", "deployment_id"):
        event[name] = int(event[name]) if event[name] != "" else None
    event["client_ip"] = event["client_ip"] or None
    event["actor_roles"] = json.loads(event["actor_roles"])
    event["details"] = json.loads(event["details"])
    return event


def row_from_jsonl(line: str, columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    event = json.loads(line)
    if not isinstance(event, dict):
        raise ValueError("not a JSON object")
    missing = [name for name in columns if name not in event]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if not isinstance(event["sequence"], int):
        raise ValueError("sequence is not a whole number")
    return event


# --- reading an export ---------------------------------------------------------------------------

class ExportUnreadable(Exception):
    pass


@dataclass
class Report:
    ok: bool
    checked: int = 0
    line: int | None = None
    sequence: int | None = None
    reason: str = ""
    anchors: list[dict] | None = None  # the manifest's anchors that the export's events matched

    def describe(self) -> str:
        if self.ok:
            text = f"export OK: {self.checked} events verified"
            if self.anchors:
                text += (f"; {len(self.anchors)} anchored chain heads matched (compare them with the portal's "
                         f"AUDIT ANCHOR log lines):")
                text += "".join(f"\n  {a['recorded_at']} event #{a['head_sequence']} {a['head_hash']}"
                                for a in self.anchors)
            return text
        where = ""
        if self.line is not None:
            where = f" at line {self.line}" + (f" (event #{self.sequence})" if self.sequence is not None else "")
        return f"export BROKEN{where}: {self.reason}"


class _HashingLines:
    """Yields decoded lines of a binary stream while hashing exactly the bytes read."""

    def __init__(self, stream):
        self.stream = stream
        self.sha256 = hashlib.sha256()

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.sha256.update(raw)
            yield raw.decode("utf-8")


def _open(path: Path):
    """(manifest, binary stream of the events file, closer) for a bundle or a loose events file."""
    if zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        try:
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
            name = _events_name(manifest)
            return manifest, archive.open(name), archive.close
        except (KeyError, ValueError) as exc:
            archive.close()
            raise ExportUnreadable(f"the bundle has no readable {MANIFEST} or events file ({exc})") from None
    manifest_path = path.with_name(MANIFEST)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportUnreadable(f"cannot read {manifest_path} ({exc})") from None
    if path.name != _events_name(manifest):
        raise ExportUnreadable(f"{manifest_path} describes {manifest.get('events_file')}, not {path.name}")
    stream = path.open("rb")
    return manifest, stream, stream.close


def _events_name(manifest: dict) -> str:
    if manifest.get("format") != FORMAT_NAME or manifest.get("format_version") not in VERSION_COLUMNS:
        raise ExportUnreadable(f"not a {FORMAT_NAME} version {' or '.join(map(str, VERSION_COLUMNS))} manifest")
    name = EVENT_FILES.get(manifest.get("events_format"))
    if name is None or manifest.get("events_file") != name:
        raise ExportUnreadable(f"unknown events file {manifest.get('events_file')!r}")
    return name


def _rows(manifest: dict, lines: _HashingLines) -> Iterator[tuple[int, dict[str, Any] | Exception]]:
    """(line number, event or the error reading it) for each event line."""
    columns = VERSION_COLUMNS[manifest["format_version"]]
    if manifest["events_format"] == "csv":
        reader = csv.reader(lines)
        header = next(reader, None)
        if header != list(columns):
            yield 1, ValueError(f"the header is not {','.join(columns)}")
            return
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, exc
                return
            try:
                yield reader.line_num, row_from_csv(cells, columns)
            except (ValueError, TypeError) as exc:
                yield reader.line_num, exc
    else:
        for number, line in enumerate(lines, start=1):
            try:
                yield number, row_from_jsonl(line, columns)
            except (ValueError, TypeError) as exc:
                yield number, exc


def verify_export(path: str | Path) -> Report:
    path = Path(path)
    try:
        manifest, stream, close = _open(path)
    except ExportUnreadable as exc:
        return Report(False, reason=str(exc))
    except OSError as exc:
        return Report(False, reason=f"cannot read {path} ({exc})")
    try:
        return _verify(manifest, _HashingLines(stream))
    except UnicodeDecodeError as exc:
        return Report(False, reason=f"the events file is not UTF-8 ({exc})")
    finally:
        close()


def _verify(manifest: dict, lines: _HashingLines) -> Report:
    contiguous = bool(manifest.get("contiguous"))
    anchors = {anchor["head_sequence"]: anchor for anchor in manifest.get("anchors") or []}
    matched: list[dict] = []
    previous: dict[str, Any] | None = None
    first: dict[str, Any] | None = None
    count = 0
    for number, event in _rows(manifest, lines):
        if isinstance(event, Exception):
            return Report(False, count, number, None, f"cannot be read: {event}")
        sequence = event["sequence"]

        def broken(reason: str) -> Report:
            return Report(False, count, number, sequence, reason)

        try:
            recomputed = event_hash(event)
        except (TypeError, ValueError) as exc:
            return broken(f"cannot be hashed: {exc}")
        if recomputed != event["hash"]:
            return broken("altered: its content no longer matches its hash")
        anchor = anchors.get(sequence)
        if anchor is not None:
            if anchor["head_hash"] != event["hash"]:
                return broken(f"history was rewritten: the chain head anchored at {anchor['recorded_at']} "
                              f"holds a different hash for this event")
            matched.append(anchor)
        if previous is None:
            first = event
            if event["prev_hash"] != manifest.get("prev_hash"):
                return broken("does not link to the manifest's prev_hash (the event before the export)")
        else:
            gap = sequence - previous["sequence"]
            if gap <= 0:
                return broken(f"out of order: it follows event #{previous['sequence']}")
            if gap == 1 and event["prev_hash"] != previous["hash"]:
                return broken(f"does not link to the hash of event #{previous['sequence']} on the line before")
            if gap > 1 and contiguous:
                missing = f"#{previous['sequence'] + 1}" + (f"..#{sequence - 1}" if gap > 2 else "")
                return broken(f"event {missing} is missing (the manifest says the range is contiguous)")
        previous = event
        count += 1

    expected = {
        "count": count,
        "first_sequence": first["sequence"] if first else None,
        "first_hash": first["hash"] if first else None,
        "last_sequence": previous["sequence"] if previous else None,
        "last_hash": previous["hash"] if previous else None,
        "events_sha256": lines.sha256.hexdigest(),
    }
    for key, actual in expected.items():
        if manifest.get(key) != actual:
            return Report(False, count, None, None,
                          f"manifest mismatch: {key} is {manifest.get(key)!r} in manifest.json but "
                          f"{actual!r} in the events file")
    if contiguous and len(matched) != len(anchors):
        missing = sorted(set(anchors) - {anchor["head_sequence"] for anchor in matched})
        return Report(False, count, None, None,
                      f"manifest mismatch: an anchor names event #{missing[0]}, which is not in the export")
    return Report(True, count, anchors=matched)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[0])
        print("usage: python verify_export.py BUNDLE.zip | events.csv | events.jsonl")
        return 2
    report = verify_export(args[0])
    print(report.describe(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
