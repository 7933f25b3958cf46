"""The threaded loop over one or many cameras: a reader thread each, frames batched through
:func:`recognition.batch.process_batch`, callbacks in the caller's thread. No Django imports (the Celery
task wraps it: it builds the engine, the watchlist matcher from the frozen snapshot and the sources, and
turns callbacks into database rows and audit events).

:func:`run_cameras` runs the loop over :mod:`recognition.sources`: a reader thread per camera
(:mod:`recognition.frame_reader`) keeps only the latest frame of a live source and reconnects live sources
with back-off; :class:`CameraRunLoop` holds what the batches of one run share (the readers, the per-camera
state, the counts and latencies), and every callback runs in the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from recognition.batch import (
    AlertCandidate,
    BatchResult,
    CameraCounts,
    CameraKey,
    CameraPipeline,
    PipelineConfig,
    live_detector,
    process_batch,
)
from recognition.frame_reader import FrameReader
from recognition.ml.matcher import WatchlistMatcher
from recognition.sources import Backoff, Frame, FrameSource

logger = logging.getLogger(__name__)

Batch = list[tuple[CameraKey, Frame, float]]  # (camera, frame, monotonic time the reader got it)


@dataclass(frozen=True)
class StatsReport:
    """Sent to ``on_stats`` about once per ``stats_interval``: counts since the previous report."""

    interval_s: float
    cameras: dict[CameraKey, CameraCounts]
    batches: int
    mean_latency_s: float  # frame read -> processed; stays bounded when frames are skipped, grows with a backlog
    max_latency_s: float
    latencies_s: dict[CameraKey, list[float]] = field(default_factory=dict)  # each frame's, per camera (metrics)


@dataclass
class RunSummary:
    reason: str  # "stopped" (should_continue said so) or "ended" (every source finished)
    elapsed_s: float
    cameras: dict[CameraKey, CameraCounts]
    batches: int
    frames_per_batch: float
    mean_latency_s: float
    max_latency_s: float

    @property
    def frames_processed(self) -> int:
        return sum(c.frames_processed for c in self.cameras.values())


class _Latency:
    def __init__(self) -> None:
        self.count, self.total, self.maximum = 0, 0.0, 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.maximum = max(self.maximum, seconds)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0



class CameraRunLoop:
    """What the batches of one run share: the readers and their events, each camera's pipeline, the counts."""

    def __init__(self, sources: Mapping[CameraKey, FrameSource], *, config: PipelineConfig, reconnect: bool,
                 backoff: Callable[[], Backoff], batch_timeout: float, check_interval: float,
                 on_stats: Callable[[StatsReport], None] | None,
                 on_source_status: Callable[[CameraKey, str, str], None] | None) -> None:
        self.condition = threading.Condition()
        self.stop = threading.Event()
        self.events: deque = deque()
        self.readers = [FrameReader(key, source, reconnect=reconnect, condition=self.condition, stop=self.stop,
                                    events=self.events, backoff=backoff) for key, source in sources.items()]
        self.cameras: dict[CameraKey, CameraPipeline] = {r.key: CameraPipeline.create(r.key, config)
                                                         for r in self.readers}
        self.totals = {r.key: CameraCounts() for r in self.readers}
        self.interval = {r.key: CameraCounts() for r in self.readers}
        self.batch_timeout, self.check_interval = batch_timeout, check_interval
        self.on_stats, self.on_source_status = on_stats, on_source_status
        self.latency = _Latency()
        self.interval_latency = _Latency()
        self.interval_latencies: dict[CameraKey, list[float]] = {}
        self.batches = self.interval_batches = self.frames_in_batches = 0
        self.started = self.last_stats = time.monotonic()

    def start(self) -> None:
        for reader in self.readers:
            reader.thread.start()

    def dispatch_events(self) -> None:
        while True:
            with self.condition:
                if not self.events:
                    return
                key, status, detail = self.events.popleft()
            if status in ("unavailable", "lost", "error"):
                logger.warning("camera %s: %s (%s)", key, status, detail)
            if self.on_source_status is not None:
                self.on_source_status(key, status, detail)

    def collect_dropped(self) -> None:
        with self.condition:
            for reader in self.readers:
                dropped = reader.take_dropped()
                self.interval[reader.key].frames_dropped += dropped

    def report(self, now: float) -> None:
        self.collect_dropped()
        if self.on_stats is not None:
            self.on_stats(StatsReport(
                interval_s=now - self.last_stats, cameras=dict(self.interval),
                batches=self.interval_batches, mean_latency_s=self.interval_latency.mean,
                max_latency_s=self.interval_latency.maximum, latencies_s=self.interval_latencies,
            ))
        self.interval_latencies = {}
        for key, counts in self.interval.items():
            self.totals[key].add(counts)
            self.interval[key] = CameraCounts()
        self.interval_batches, self.interval_latency, self.last_stats = 0, _Latency(), now

    def gather(self) -> Batch | None:
        """Frames for one batch; [] when it is time to check should_continue; None when all sources ended."""
        wait_until = time.monotonic() + self.check_interval
        first_frame_at = None
        with self.condition:
            while True:
                ready = [r for r in self.readers if r.slot is not None]
                waiting = [r for r in self.readers if r.slot is None and not r.finished]
                now = time.monotonic()
                if ready and first_frame_at is None:
                    first_frame_at = now
                if ready and (not waiting or now - first_frame_at >= self.batch_timeout or now >= wait_until):
                    return [(r.key, *r.take()) for r in ready]
                if not ready and not waiting:
                    return None
                if self.events or now >= wait_until:
                    return []
                deadline = (wait_until if first_frame_at is None
                            else min(wait_until, first_frame_at + self.batch_timeout))
                self.condition.wait(max(0.0, deadline - now))

    def let_readers_refill(self) -> None:
        with self.condition:
            self.condition.notify_all()  # non-live readers may refill their slots while we work

    def record(self, batch: Batch, result: BatchResult) -> None:
        """Count the batch and its latencies, and stamp each alert with the wall-clock time its frame was read."""
        done = time.monotonic()
        for key, _, received_at in batch:
            self.interval_latency.add(done - received_at)
            self.latency.add(done - received_at)
            self.interval_latencies.setdefault(key, []).append(done - received_at)
        self.batches += 1
        self.interval_batches += 1
        self.frames_in_batches += len(batch)
        for key, counts in result.cameras.items():
            self.interval[key].add(counts)
        wall_offset = time.time() - time.monotonic()
        read_at = {key: received_at + wall_offset for key, _, received_at in batch}
        for alert in result.alerts:
            alert.read_at = read_at.get(alert.camera_key)

    def shut_down(self) -> None:
        """Stop the readers (waiting up to 2 s for them) and end every track."""
        self.stop.set()
        with self.condition:
            self.condition.notify_all()
        deadline = time.monotonic() + 2.0
        for reader in self.readers:
            if reader.thread.is_alive():
                reader.thread.join(max(0.0, deadline - time.monotonic()))
        for key, camera in self.cameras.items():
            self.interval[key].tracks_closed += camera.close()  # tracks end with the run; their faces go with them

    def summary(self, reason: str) -> RunSummary:
        return RunSummary(
            reason=reason, elapsed_s=time.monotonic() - self.started, cameras=self.totals, batches=self.batches,
            frames_per_batch=self.frames_in_batches / self.batches if self.batches else 0.0,
            mean_latency_s=self.latency.mean, max_latency_s=self.latency.maximum,
        )


def run_cameras(
    *,
    sources: Mapping[CameraKey, FrameSource],
    engine,
    matcher: WatchlistMatcher | None,
    threshold: float,
    should_continue: Callable[[], bool],
    on_alert: Callable[[AlertCandidate], None],
    on_stats: Callable[[StatsReport], None] | None = None,
    on_source_status: Callable[[CameraKey, str, str], None] | None = None,
    config: PipelineConfig | None = None,
    threshold_offsets: Mapping[Hashable, float] | None = None,
    batch_timeout: float = 0.04,
    stats_interval: float = 1.0,
    check_interval: float = 0.5,
    reconnect: bool = True,
    backoff: Callable[[], Backoff] = Backoff,
) -> RunSummary:
    """Process the cameras until ``should_continue()`` is False or every source has ended.

    Sources may be given opened or not; each is read by its own thread and closed when the run ends.
    A batch holds the latest frame of every camera that has one; after the first frame arrives the loop
    waits at most ``batch_timeout`` s for the other cameras. ``should_continue`` is checked before every
    batch and at least every ``check_interval`` s while waiting. Callbacks all run in the calling thread:
    ``on_alert(candidate)`` right after the batch that produced it, ``on_stats(report)`` about every
    ``stats_interval`` s and once at the end, ``on_source_status(camera, status, detail)`` with status
    connected / unavailable / lost / ended / error. A live source that fails is reopened with ``backoff``
    delays (1, 2, 4 ... 30 s) when ``reconnect``; a failing camera never stops the others.
    """

    config = config or PipelineConfig()
    detector = live_detector(engine, config.det_size)
    loop = CameraRunLoop(sources, config=config, reconnect=reconnect, backoff=backoff, batch_timeout=batch_timeout,
                         check_interval=check_interval, on_stats=on_stats, on_source_status=on_source_status)
    reason = "ended"
    loop.start()
    try:
        while True:
            loop.dispatch_events()
            if not should_continue():
                reason = "stopped"
                break
            batch = loop.gather()
            if batch is None:
                loop.dispatch_events()
                break
            if batch:
                loop.let_readers_refill()
                result = process_batch(frames=[(key, frame) for key, frame, _ in batch], engine=engine,
                                       matcher=matcher, threshold=threshold, cameras=loop.cameras,
                                       policy=config.policy, detector=detector, config=config,
                                       threshold_offsets=threshold_offsets)
                loop.record(batch, result)
                for alert in result.alerts:
                    on_alert(alert)
            now = time.monotonic()
            if now - loop.last_stats >= stats_interval:
                loop.report(now)
    finally:
        loop.shut_down()
    loop.dispatch_events()
    loop.report(time.monotonic())
    return loop.summary(reason)
