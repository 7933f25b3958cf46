"""What the camera workers write: camera status, per-minute face counts. Never a face that did not match."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone

from alerts.broadcast import broadcast_on_commit
from deployments.models import Camera

logger = logging.getLogger(__name__)


def camera_status_set(*, camera_id: int, deployment_id: int | None, status: str, detail: str = "") -> bool:
    """Record a camera's stream status; tell the officers' pages when it changes."""
    if status not in Camera.Status.values:
        raise ValueError(f"unknown camera status {status!r}")
    with transaction.atomic():
        changed = Camera.objects.filter(pk=camera_id).exclude(status=status, status_detail=detail[:300]).update(
            status=status, status_detail=detail[:300], status_changed_at=timezone.now())
        if changed and deployment_id is not None:
            # No detail: it may quote the camera's source, which only camera managers see (security.md).
            broadcast_on_commit(deployment_id=deployment_id, event="camera.status", camera_id=camera_id,
                                status=status, label=Camera.Status(status).label)
    return bool(changed)


def face_counts_add(*, deployment_id: int, camera_id: int, moment: dt.datetime, faces: int, frames: int,
                    tracks: int = 0) -> None:
    """Add to the camera's count for that minute (an upsert, so several flushes a minute add up). ``faces`` are
    detections (one per face per frame), ``tracks`` the tracks started (about one per passer-by)."""
    minute = moment.replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO recognition_cameraminutecount (deployment_id, camera_id, minute, faces, frames, tracks)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (camera_id, deployment_id, minute)
            DO UPDATE SET faces = recognition_cameraminutecount.faces + EXCLUDED.faces,
                          frames = recognition_cameraminutecount.frames + EXCLUDED.frames,
                          tracks = recognition_cameraminutecount.tracks + EXCLUDED.tracks
            """,
            [deployment_id, camera_id, minute, faces, frames, tracks],
        )
