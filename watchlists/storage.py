"""Protected files (face images): kept under PROTECTED_MEDIA_ROOT, never under a public URL."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import BinaryIO

from django.conf import settings


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


def protected_save_stream(*, source: BinaryIO, folder: str, suffix: str = ".img",
                          chunk_bytes: int = 1024 * 1024) -> tuple[str, str]:
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
