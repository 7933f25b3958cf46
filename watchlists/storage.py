"""Protected files (face images): kept under PROTECTED_MEDIA_ROOT, never under a public URL."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from core.errors import Gone


def _root() -> Path:
    return Path(settings.PROTECTED_MEDIA_ROOT).resolve()


def protected_path(name: str) -> Path:
    path = (_root() / name).resolve()
    if _root() not in path.parents:
        raise ValueError(f"refusing a path outside the protected root: {name!r}")
    return path


def protected_save(*, data: bytes, folder: str, suffix: str = ".img") -> tuple[str, str]:
    """Write bytes atomically; returns (name relative to the root, sha256)."""
    name = f"{folder}/{uuid.uuid4().hex}{suffix}"
    path = protected_path(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(path.suffix + ".part")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return name, hashlib.sha256(data).hexdigest()


PENDING_SUFFIX = ".pending"


def protected_save_pending(*, data: bytes, folder: str, suffix: str = ".img") -> str:
    """Write bytes durably under a temporary name; returns the final name, which exists only once
    `protected_pending_commit` renames it (after the record naming it has committed). A writer killed in
    between leaves only a ``.pending`` file, which the sweeper removes (`protected_stale_files`)."""
    name = f"{folder}/{uuid.uuid4().hex}{suffix}"
    pending = protected_path(name + PENDING_SUFFIX)
    pending.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return name


def protected_pending_commit(name: str, *, as_name: str | None = None) -> None:
    """Give a pending file its final name (`as_name`: another record's name, to restore its lost file)."""
    os.replace(protected_path(name + PENDING_SUFFIX), protected_path(as_name or name))


def protected_pending_discard(name: str) -> None:
    protected_path(name + PENDING_SUFFIX).unlink(missing_ok=True)


def protected_exists(name: str) -> bool:
    return protected_path(name).is_file()


def protected_files(folder: str) -> list[tuple[str, float]]:
    """(name, modification time) of every file under a protected folder, pending ones included."""
    base = protected_path(folder) if folder else _root()
    if not base.is_dir():
        return []
    root = _root()
    found = []
    for path in base.rglob("*"):
        try:
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path.stat().st_mtime))
        except FileNotFoundError:
            continue  # deleted while we looked
    return found


def protected_save_stream(*, source: BinaryIO, folder: str, suffix: str = ".img",
                          chunk_bytes: int = 256 * 1024) -> tuple[str, str]:
    """Copy a file object in chunks (an upload of hundreds of MB never sits in memory); returns (name, sha256)."""
    name = f"{folder}/{uuid.uuid4().hex}{suffix}"
    path = protected_path(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(path.suffix + ".part")
    digest = hashlib.sha256()
    try:
        with open(temporary, "wb") as handle:
            os.chmod(temporary, 0o600)
            while chunk := source.read(chunk_bytes):
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return name, digest.hexdigest()


def protected_open(name: str) -> BinaryIO:
    return open(protected_path(name), "rb")


def protected_read(name: str) -> bytes:
    return protected_path(name).read_bytes()


def protected_delete(name: str) -> bool:
    try:
        protected_path(name).unlink()
        return True
    except FileNotFoundError:
        return False


def protected_read_for_person(name: str, *, what: str, audit: Callable[[dict], object]) -> bytes:
    """Read a face image to show to someone: ``audit(details)`` records the access whatever the outcome
    (``{"file_missing": True}`` when storage has lost the file), then ``Gone`` says so instead of a 500.

    The caller must not roll back the audit with the error: an asked-for image that is missing is still
    an access attempt, and the record of a lost file is what oversight needs to see."""
    try:
        data = protected_read(name)
    except FileNotFoundError:
        audit({"file_missing": True})
        raise Gone(f"{what} is missing from protected storage: the record is kept, the file is not. "
                   f"Restore it from backup, or delete the record and upload it again.") from None
    audit({})
    return data
