"""Anchors outside the database: an append-only file of the chain's head, one HMAC-signed JSON line each.

The database anchors (AuditAnchor) can be rewritten together with the chain by whoever controls the
database. These lines are written by the anchor worker only, on a host holding the key; a host without
the key can check that the chain still holds every anchored hash but cannot forge a line. No ORM: the
file can be checked anywhere with this module.

A line: {"n": 1, "sequence": 42, "hash": "<64 hex>", "at": "2026-12-01T10:00:00.000000Z", "hmac": "<64 hex>"}
where hmac = HMAC-SHA256(key, canonical JSON of n, sequence, hash and at), and n counts the lines from 1,
so a line taken out of the middle is noticed.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from audit.chain import canonical_json

SIGNED_FIELDS = ("n", "sequence", "hash", "at")


class AnchorFileError(ValueError):
    """The anchor file cannot be trusted: a line is unreadable, out of order or wrongly signed."""


def read_key(path: str | Path) -> bytes:
    key = Path(path).read_bytes().strip()
    if len(key) < 16:
        raise AnchorFileError(f"the anchor key in {path} is too short (at least 16 bytes)")
    return key


def signature(key: bytes, entry: dict) -> str:
    signed = canonical_json({name: entry[name] for name in SIGNED_FIELDS}).encode()
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class FileAnchor:
    line: int
    sequence: int
    hash: str
    at: str
    signed: bool  # the signature was checked (a key was given) and matched


def anchor_append(*, path: str | Path, key: bytes, sequence: int, head_hash: str, at: str) -> FileAnchor:
    """Append one signed line (O_APPEND, under an exclusive lock, fsynced). The file is only ever appended
    to by this function; making it append-only for the system (chattr +a, a WORM store, a remote log) is
    the operator's part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with open(path, "rb") as existing:
            count = sum(1 for line in existing if line.strip())
        entry = {"n": count + 1, "sequence": sequence, "hash": head_hash, "at": at}
        entry["hmac"] = signature(key, entry)
        os.write(fd, (canonical_json(entry) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return FileAnchor(entry["n"], sequence, head_hash, at, True)


def anchors_read(*, path: str | Path, key: bytes | None) -> list[FileAnchor]:
    """Every line, checked for form, numbering and order, and for its signature when `key` is given."""
    anchors: list[FileAnchor] = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            where = f"anchor file {path} line {number}"
            try:
                entry = json.loads(raw)
                fields = {name: entry[name] for name in (*SIGNED_FIELDS, "hmac")}
            except (ValueError, KeyError, TypeError) as exc:
                raise AnchorFileError(f"{where} cannot be read: {exc}") from exc
            if fields["n"] != len(anchors) + 1:
                raise AnchorFileError(f"{where} is anchor n={fields['n']}, expected n={len(anchors) + 1}: "
                                      "lines were removed or reordered")
            if key is not None and not hmac.compare_digest(str(fields["hmac"]), signature(key, fields)):
                raise AnchorFileError(f"{where}: the signature does not match (the line was altered or forged)")
            if anchors and fields["sequence"] < anchors[-1].sequence:
                raise AnchorFileError(f"{where} anchors event #{fields['sequence']}, before the previous line's "
                                      f"#{anchors[-1].sequence}")
            anchors.append(FileAnchor(number, int(fields["sequence"]), str(fields["hash"]), str(fields["at"]),
                                      key is not None))
    return anchors
