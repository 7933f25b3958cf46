"""Operational figures of every process on every host, kept in Redis and served by the web at /metrics.

Why Redis and not prometheus_client's multiprocess mode: the camera loops run in Celery prefork children on
GPU hosts that have no web server, so a PROMETHEUS_MULTIPROC_DIR on the web host never sees their figures, and
each GPU host would need its own exporter, scrape target and directory clean-up as pool children come and go.
Here each process adds its deltas to one Redis hash (HINCRBYFLOAT, so many writers never lose an update), and
any web process on any host exports the same totals; they survive a worker restart, so counters never go
back. Redis being down costs no figure: deltas wait in the process until it answers again.

A figure is a counter (only goes up), a histogram (buckets, sum and count, also counters) or a gauge that a
process reports with the time it did (a worker's spool size); stale gauges are dropped when exported.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

from core.redis_probe import monitoring_redis

logger = logging.getLogger(__name__)

COUNTERS_KEY = "lfr:metrics:counters"
GAUGES_KEY = "lfr:metrics:gauges"
WRITE_TIMEOUT_SECONDS = 0.5  # a camera loop flushes from its own thread: never stall it for long
RETRY_AFTER_SECONDS = 5.0  # after a failed flush, keep adding up locally for this long before trying again

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # counter, histogram or gauge
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


METRICS = {m.name: m for m in (
    Metric("lfr_camera_frames_processed", "counter", "Frames run through detection, per camera", ("camera",)),
    Metric("lfr_camera_frames_dropped", "counter",
           "Frames a live camera produced that were skipped (processing slower than the camera, or unusable)",
           ("camera",)),
    Metric("lfr_camera_faces", "counter", "Faces detected (one per face per frame), per camera", ("camera",)),
    Metric("lfr_camera_tracks", "counter", "Face tracks started (about one per passer-by), per camera", ("camera",)),
    Metric("lfr_camera_alerts", "counter", "Alerts the pipeline raised, per camera", ("camera",)),
    Metric("lfr_camera_processing_latency_seconds", "histogram", "Frame read to frame processed, per camera",
           ("camera",), LATENCY_BUCKETS),
    Metric("lfr_alert_delivery_latency_seconds", "histogram",
           "Camera frame read to the alert committed in PostgreSQL (stage=commit) and broadcast to the officers' "
           "pages (stage=broadcast)", ("stage",), DELIVERY_BUCKETS),
    Metric("lfr_alert_spool_size", "gauge", "Alerts held in a worker's spool, not yet in PostgreSQL", ("worker",)),
)}


def _field(sample: str, labels: dict[str, str]) -> str:
    return json.dumps([sample, labels], sort_keys=True, separators=(",", ":"))


def _bucket_label(buckets: tuple[float, ...], value: float) -> str:
    for bound in buckets:
        if value <= bound:
            return repr(bound)
    return "+Inf"


class _Pending:
    """This process's deltas not yet in Redis."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}
        self.retry_at = 0.0
        self.client = None

    def add(self, field: str, value: float) -> None:
        self.counters[field] = self.counters.get(field, 0.0) + value


_pending = _Pending()


def _labels(metric: Metric, labels: dict) -> dict[str, str]:
    if set(labels) != set(metric.labels):
        raise ValueError(f"{metric.name} takes labels {metric.labels}, not {tuple(labels)}")
    return {key: str(value) for key, value in labels.items()}


def metric_add(name: str, value: float = 1, **labels) -> None:
    """Add to a counter (kept until flushed)."""
    metric = METRICS[name]
    assert metric.kind == "counter", name
    if value:
        with _pending.lock:
            _pending.add(_field(f"{name}_total", _labels(metric, labels)), float(value))


def metric_observe(name: str, value: float, **labels) -> None:
    """One observation of a histogram (seconds)."""
    metric = METRICS[name]
    assert metric.kind == "histogram", name
    labels = _labels(metric, labels)
    with _pending.lock:
        _pending.add(_field(f"{name}_bucket", {**labels, "le": _bucket_label(metric.buckets, value)}), 1.0)
        _pending.add(_field(f"{name}_sum", labels), float(value))
        _pending.add(_field(f"{name}_count", labels), 1.0)


def metric_set(name: str, value: float, **labels) -> None:
    """Report a gauge's current value (exported while fresh)."""
    metric = METRICS[name]
    assert metric.kind == "gauge", name
    with _pending.lock:
        _pending.gauges[_field(name, _labels(metric, labels))] = float(value)


def metrics_flush() -> bool:
    """Send this process's pending figures to Redis; False (figures kept) when Redis did not take them."""

    with _pending.lock:
        if not (_pending.counters or _pending.gauges):
            return True
        if time.monotonic() < _pending.retry_at:
            return False
        counters, gauges = _pending.counters, _pending.gauges
        _pending.counters, _pending.gauges = {}, {}
        if _pending.client is None:
            _pending.client = monitoring_redis(timeout=WRITE_TIMEOUT_SECONDS)
        client = _pending.client
    try:
        pipe = client.pipeline(transaction=False)
        for field, value in counters.items():
            pipe.hincrbyfloat(COUNTERS_KEY, field, value)
        now = time.time()
        for field, value in gauges.items():
            pipe.hset(GAUGES_KEY, field, json.dumps([value, now]))
        pipe.execute()
        return True
    except Exception as exc:
        # A timeout may still have applied some increments: counting a second once more is the lesser harm.
        with _pending.lock:
            for field, value in counters.items():
                _pending.add(field, value)
            for field, value in gauges.items():
                _pending.gauges.setdefault(field, value)
            _pending.retry_at = time.monotonic() + RETRY_AFTER_SECONDS
        logger.warning("metrics not sent to Redis (kept, retrying in %g s): %s", RETRY_AFTER_SECONDS, exc)
        return False


@dataclass(frozen=True)
class Sample:
    name: str  # the sample's name (lfr_camera_frames_processed_total, ..._bucket, ..._sum)
    labels: dict[str, str]
    value: float


def metrics_stored(*, client, gauge_max_age_s: float) -> list[Sample]:
    """Every process's flushed figures: counters and histograms, and gauges reported within the max age."""
    samples = []
    for raw_field, raw_value in client.hgetall(COUNTERS_KEY).items():
        name, labels = json.loads(raw_field)
        samples.append(Sample(name, labels, float(raw_value)))
    now, stale = time.time(), []
    for raw_field, raw_value in client.hgetall(GAUGES_KEY).items():
        value, at = json.loads(raw_value)
        if now - at > gauge_max_age_s:
            stale.append(raw_field)
            continue
        name, labels = json.loads(raw_field)
        samples.append(Sample(name, labels, float(value)))
    if stale:  # a worker that stopped reporting: its last value is not its value now
        client.hdel(GAUGES_KEY, *stale)
    return samples
