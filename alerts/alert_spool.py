"""The camera worker's alert spool: a match is on the worker's own disk before anything that can fail.

No Django here. An entry is one file: a line of JSON (everything the alert needs) followed by the face
crop's JPEG bytes. It is written under a temporary name, fsynced and renamed into place (the folder fsynced
too), so a reader sees a whole entry or none, and it is removed only once its alert is committed in
PostgreSQL. Entries are biometric data: the folder is 0700, the files 0600, and they live only until
delivered.

An entry being delivered is held with flock(2). Another process on the host (a worker starting up, the beat
drain) skips a held entry, and a killed holder's lock dies with it, so what a killed worker left is delivered
by the next drainer. Delivery is idempotent (the alert's delivery key), so an entry delivered twice - a
crash after commit and before removal - still makes one alert.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

ENTRY_SUFFIX = ".alert"
TEMP_SUFFIX = ".part"


class SpoolEntryUnreadable(ValueError):
    """An entry file that is not a whole entry (it can only come from outside this module: writes are atomic)."""


@dataclass(frozen=True)
class SpoolEntry:
    meta: dict  # JSON-serialisable: what the alert is made of, without the crop
    jpeg: bytes

    def to_bytes(self) -> bytes:
        header = dict(self.meta, jpeg_sha256=hashlib.sha256(self.jpeg).hexdigest())
        return json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n" + self.jpeg

    @classmethod
    def from_bytes(cls, data: bytes) -> SpoolEntry:
        head, newline, jpeg = data.partition(b"\n")
        try:
            meta = json.loads(head) if newline else None
        except ValueError:
            meta = None
        if not isinstance(meta, dict) or meta.pop("jpeg_sha256", None) != hashlib.sha256(jpeg).hexdigest():
            raise SpoolEntryUnreadable("not a whole spool entry")
        return cls(meta=meta, jpeg=jpeg)


class HeldEntry:
    """An entry this process holds the lock of: read it, then remove it (delivered) or release it (retry)."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd = fd

    @property
    def name(self) -> str:
        return self.path.name

    def read(self) -> SpoolEntry:
        with open(self._fd, "rb", closefd=False) as handle:
            handle.seek(0)
            return SpoolEntry.from_bytes(handle.read())

    def remove(self) -> None:
        """Delivered: the entry goes (unlinked before the lock is let go, so no one else can take it)."""
        if self._fd < 0:
            return
        self.path.unlink(missing_ok=True)
        _fsync_folder(self.path.parent)
        self.release()

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the flock
            self._fd = -1

    def __enter__(self) -> HeldEntry:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class AlertSpool:
    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def put(self, entry: SpoolEntry) -> HeldEntry:
        """Write the entry durably and return it held by this process (locked before it becomes visible)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Names sort in write order, so a drain delivers the oldest first.
        stem = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        temporary = self.folder / f".{stem}{TEMP_SUFFIX}"
        final = self.folder / f"{stem}{ENTRY_SUFFIX}"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # the lock follows the inode through the rename
            os.write(fd, entry.to_bytes())
            os.fsync(fd)
            os.rename(temporary, final)
            _fsync_folder(self.folder)
        except BaseException:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            raise
        return HeldEntry(final, fd)

    def paths(self) -> list[Path]:
        """Every undelivered entry, oldest first (held ones included)."""
        try:
            return sorted(p for p in self.folder.iterdir() if p.name.endswith(ENTRY_SUFFIX))
        except FileNotFoundError:
            return []

    def size(self) -> int:
        return len(self.paths())

    def hold(self, path: Path) -> HeldEntry | None:
        """Take an entry's lock without waiting; None when someone else holds it or it is gone."""
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Removed (delivered) between our open and our lock: the inode we hold is no longer the entry.
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                raise FileNotFoundError(path)
        except (BlockingIOError, FileNotFoundError):
            os.close(fd)
            return None
        return HeldEntry(path, fd)

    def stale_temporaries(self, *, before: float) -> list[Path]:
        """Temporary files (modified before the epoch time `before`) of writers killed mid-write: never an
        entry, since an entry appears only by rename."""
        cutoff = before
        try:
            candidates = [p for p in self.folder.iterdir() if p.name.endswith(TEMP_SUFFIX)]
        except FileNotFoundError:
            return []
        stale = []
        for path in candidates:
            try:
                if path.stat().st_mtime < cutoff:
                    stale.append(path)
            except FileNotFoundError:
                continue
        return stale


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class DrainResult:
    delivered: int = 0
    failed: int = 0  # a transient failure (the database unreachable): left for the next try
    held_elsewhere: int = 0
    undeliverable: int = 0  # unreadable, or refused for good: left in place for an operator, skipped


def spool_drain(spool: AlertSpool, deliver: Callable[[HeldEntry], object], *,
                transient: Callable[[Exception], bool] = lambda exc: True) -> DrainResult:
    """Deliver every entry no one else holds, oldest first. ``deliver(held)`` writes it and removes it once
    committed. A transient failure leaves it, and the rest, for the next drain (the database is most likely
    down: each would fail the same way); any other failure is logged and skipped, so one entry that can never
    be delivered does not hold up those after it."""
    result = DrainResult()
    for path in spool.paths():
        held = spool.hold(path)
        if held is None:
            result.held_elsewhere += 1
            continue
        try:
            deliver(held)
        except Exception as exc:
            if isinstance(exc, SpoolEntryUnreadable) or not transient(exc):
                logger.error("alert spool entry %s cannot be delivered: left in place for an operator",
                             path.name, exc_info=True)
                result.undeliverable += 1
                continue
            logger.warning("alert spool entry %s not delivered yet", path.name, exc_info=True)
            result.failed += 1
            break
        else:
            result.delivered += 1
        finally:
            held.release()
    return result


class Backoff:
    """1, 2, 4 ... `maximum` seconds between failed tries; back to the start after a success."""

    def __init__(self, first: float = 1.0, maximum: float = 30.0):
        self.first, self.maximum = first, maximum
        self.delay = first

    def failed(self) -> float:
        delay = self.delay
        self.delay = min(self.delay * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self.delay = self.first


class SpoolDrainer:
    """A background thread that delivers what the spool holds, so the camera loop never waits for it.

    It drains at start (entries a killed predecessor on this host left), whenever woken, and every
    `idle_s`; after a failed delivery it waits with back-off. `on_exit` runs on the thread as it ends
    (e.g. close its database connection).
    """

    def __init__(self, spool: AlertSpool, deliver: Callable[[HeldEntry], object], *,
                 transient: Callable[[Exception], bool] = lambda exc: True, backoff: Backoff | None = None,
                 idle_s: float = 5.0, on_exit: Callable[[], None] | None = None):
        self.spool = spool
        self.deliver = deliver
        self.transient = transient
        self.backoff = backoff or Backoff()
        self.idle_s = idle_s
        self.on_exit = on_exit
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-spool-drainer", daemon=True)

    @property
    def failing(self) -> bool:
        """The last drain could not deliver: new entries should wait their turn rather than try inline
        (unless the thread has died, when inline is the only way left)."""
        return self._failing.is_set() and self._thread.is_alive()

    def start(self) -> SpoolDrainer:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, *, flush_timeout_s: float = 10.0) -> None:
        """One last drain, waiting at most `flush_timeout_s`; what is left stays for the next drainer."""
        self._stop.set()
        self._wake.set()
        self._thread.join(flush_timeout_s)

    def _run(self) -> None:
        try:
            while True:
                result = spool_drain(self.spool, self.deliver, transient=self.transient)
                if result.failed:
                    self._failing.set()
                    wait = self.backoff.failed()
                else:
                    self._failing.clear()
                    self.backoff.reset()
                    wait = self.idle_s
                if self._stop.is_set():
                    return
                self._wake.wait(wait)
                self._wake.clear()
        except Exception:
            logger.exception("alert spool drainer stopped")
        finally:
            if self.on_exit is not None:
                self.on_exit()
