"""Alert delivery latency for /metrics (core/metrics.py): how long after its frame an alert was committed
and broadcast. Recorded by the web process and the camera workers alike."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from core.metrics import metric_observe, metrics_flush

logger = logging.getLogger(__name__)


def alert_delivery_observe(*, stage: str, frame_time: dt.datetime) -> None:
    """An alert reached a stage (commit, broadcast): how long after its frame was read (never raises)."""
    try:
        metric_observe("lfr_alert_delivery_latency_seconds", max(0.0, (timezone.now() - frame_time).total_seconds()),
                       stage=stage)
        metrics_flush()
    except Exception:
        logger.warning("alert delivery latency not recorded", exc_info=True)
