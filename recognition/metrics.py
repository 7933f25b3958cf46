"""The camera workers' figures for /metrics (core/metrics.py): the pipeline's per-camera counts and latencies
from each StatsReport, alert delivery latencies, and the worker's alert spool size."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.utils import timezone

from core.metrics import metric_add, metric_observe, metric_set, metrics_flush

if TYPE_CHECKING:  # the web process records alert latencies without loading the pipeline
    from recognition.run_loop import StatsReport

logger = logging.getLogger(__name__)

COUNTED = {"lfr_camera_frames_processed": "frames_processed", "lfr_camera_frames_dropped": "frames_dropped",
           "lfr_camera_faces": "faces_seen", "lfr_camera_tracks": "tracks_started", "lfr_camera_alerts": "alerts"}


def alert_spool_size() -> int:
    """Alerts held in this host's spool, not yet in PostgreSQL (alerts.selectors.alert_spool_size)."""
    from alerts.selectors import alert_spool_size as spool_size

    return int(spool_size())


def camera_stats_record(*, report: StatsReport, worker: str) -> None:
    """Add one StatsReport's counts and latencies to the camera metrics and send them (never raises)."""
    try:
        for camera_id, counts in report.cameras.items():
            for metric, attribute in COUNTED.items():
                metric_add(metric, getattr(counts, attribute), camera=camera_id)
        for camera_id, latencies in report.latencies_s.items():
            for seconds in latencies:
                metric_observe("lfr_camera_processing_latency_seconds", seconds, camera=camera_id)
        metric_set("lfr_alert_spool_size", alert_spool_size(), worker=worker)
        metrics_flush()
    except Exception:
        logger.warning("camera metrics not recorded", exc_info=True)


def alert_delivery_observe(*, stage: str, frame_time: dt.datetime) -> None:
    """An alert reached a stage (commit, broadcast): how long after its frame was read (never raises)."""
    try:
        metric_observe("lfr_alert_delivery_latency_seconds", max(0.0, (timezone.now() - frame_time).total_seconds()),
                       stage=stage)
        metrics_flush()
    except Exception:
        logger.warning("alert delivery latency not recorded", exc_info=True)
