"""The Django side of the alert spool (alerts/alert_spool.py): where it lives and what an entry holds.

One folder per host, ALERT_SPOOL_DIR (default VAR_DIR/alert-spool), 0700, its files 0600: every worker
on the host spools there, so a worker starting up delivers what a killed predecessor left.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings

from alerts.alert_spool import AlertSpool, SpoolEntry

# What an alert copies from the frozen snapshot reference. Kept in the entry, so a match spooled while the
# database was down is delivered even after its snapshot has been deleted.
REFERENCE_FIELDS = ("subject_id", "subject_reference", "name", "category", "reason", "priority",
                    "reference_image_id", "warning_markers", "engagement_instructions")


def spooled_reference_fields(subject: dict) -> dict:
    """An entry's "subject" as SnapshotReference fields (entries spooled before a field existed lack it)."""
    taken_on = subject.get("image_taken_on")
    return {**subject, "image_taken_on": dt.date.fromisoformat(taken_on) if taken_on else None}


def alert_spool() -> AlertSpool:
    return AlertSpool(Path(settings.ALERT_SPOOL_DIR))


def alert_spool_entry(*, deployment_id: int, camera_id: int, run_token: str, track_id: int, reference,
                      score: float, threshold: float, model_id: str, frame_time: dt.datetime,
                      probe_jpeg: bytes) -> SpoolEntry:
    return SpoolEntry(meta={
        "deployment_id": deployment_id, "camera_id": camera_id, "run_token": run_token, "track_id": int(track_id),
        "subject": {**{field: getattr(reference, field) for field in REFERENCE_FIELDS},
                    "image_taken_on": reference.image_taken_on and reference.image_taken_on.isoformat()},
        "score": float(score), "threshold": float(threshold), "model_id": model_id,
        "frame_time": frame_time.isoformat()}, jpeg=probe_jpeg)
