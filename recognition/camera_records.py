"""What a camera loop writes to PostgreSQL besides alerts (camera status, faces and tracks per minute), kept
in memory while the database is away and written once it is back, so an outage costs neither the loop nor
the figures. Alerts have their own durable path (the spool, alerts/spool.py)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django.utils import timezone

from recognition.services import camera_status_set, face_counts_add

logger = logging.getLogger(__name__)


def forget_broken_connection() -> None:
    """After the database went away, the next try must open a new connection rather than reuse the dead one."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()


@dataclass
class DatabaseOutage:
    """Says once when the database goes away and once when it is back, with how long it was away."""

    holder: str
    away_since: float | None = None

    def failed(self, exc: Exception, doing: str) -> None:
        forget_broken_connection()
        if self.away_since is None:
            self.away_since = time.monotonic()
            logger.warning("worker %s cannot reach the database to %s (%s); carrying on", self.holder, doing, exc)

    def answered(self) -> None:
        if self.away_since is not None:
            logger.warning("worker %s reached the database again after %.0f s", self.holder,
                           time.monotonic() - self.away_since)
            self.away_since = None

    @property
    def away(self) -> bool:
        return self.away_since is not None


@dataclass
class CameraRecords:
    deployment_id: int
    outage: DatabaseOutage
    counts: dict[int, Counter] = field(default_factory=dict)  # camera -> faces, frames, tracks not yet written
    statuses: dict[int, tuple[str, str]] = field(default_factory=dict)  # camera -> the latest status not written

    def add_counts(self, camera_id: int, *, faces: int, frames: int, tracks: int) -> None:
        self.counts.setdefault(camera_id, Counter()).update(faces=faces, frames=frames, tracks=tracks)

    def set_status(self, camera_id: int, status: str, detail: str) -> None:
        self.statuses[camera_id] = (status, detail)
        self.flush()

    def flush(self) -> bool:
        """Write what is pending; True when nothing is left. Counts held over an outage go to the minute they
        are written in (the day's and the deployment's totals stay right)."""
        try:
            for camera_id, (status, detail) in list(self.statuses.items()):
                camera_status_set(camera_id=camera_id, deployment_id=self.deployment_id, status=status, detail=detail)
                del self.statuses[camera_id]
            now = timezone.now()
            for camera_id, counts in list(self.counts.items()):
                face_counts_add(deployment_id=self.deployment_id, camera_id=camera_id, moment=now,
                                faces=counts["faces"], frames=counts["frames"], tracks=counts["tracks"])
                del self.counts[camera_id]
        except DatabaseError as exc:
            self.outage.failed(exc, "record camera status and counts")
            return False
        self.outage.answered()
        return True
