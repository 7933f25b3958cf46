"""The live recognition loop for one or many cameras, as plain functions with their parts passed in.

No Django imports (the Celery task wraps it: it builds the engine, the watchlist matcher from the frozen
snapshot and the sources, and turns callbacks into database rows and audit events).

Per batch of frames (one per camera, see :func:`process_batch`):

1. detect faces in every frame with ONE batched detector call, at the live input size
   (:data:`DEFAULT_LIVE_DET_SIZE`, chosen on the street video: see ``bench/pipeline.py``);
2. align each face (cheap) and measure its quality; update the camera's :class:`FaceTracker` by box
   overlap (no embeddings needed to associate);
3. embed ONLY the faces whose track wants an embedding (``Track.should_embed``: the first usable frame,
   a clearly better frame, or a periodic refresh), that pass ``QualityPolicy.live()`` and whose track has
   not alerted yet, at most one per track per batch, in ONE batched embedder call;
4. match them against the watchlist in ONE matcher call, keep each track's best match, and emit ONE
   :class:`AlertCandidate` the first time a track's best score reaches the threshold (then the track is
   marked alerted and never embedded again). A broken track's continuation (someone walked in front of
   the face) that matches a subject this camera alerted on within ``repeat_alert_after_s`` is marked
   alerted without a second alert: one passer-by, one alert per pass.

Faces that never match live only in the tracker's memory (boxes, landmarks, quality, a running mean
embedding) and are dropped when their track closes; nothing is written anywhere. Only counts leave this
module (faces seen, frames, embeddings, tracks per camera).

:func:`run_cameras` runs the loop over :mod:`recognition.sources`: a reader thread per camera keeps only
the latest frame of a live source (a slow worker skips frames, it never builds a backlog), reconnects live
sources with back-off, and every callback runs in the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from recognition.ml.align import align_faces
from recognition.ml.decision import TrackDecision, decision_from_name
from recognition.ml.detector import FaceDetector
from recognition.ml.images import ensure_bgr
from recognition.ml.matcher import WatchlistMatcher
from recognition.ml.quality import QualityPolicy, assess_face
from recognition.ml.tracker import FaceTracker, Track
from recognition.sources import Backoff, Frame, FrameSource, SourceUnavailable, redact_url

logger = logging.getLogger(__name__)

CameraKey = Hashable

# Detector input for live frames, (width, height), multiples of 32. A 1080p frame letterboxed into 640x640
# spends 44% of the input on padding and shrinks faces 3x. Measured on the 1080p street video (2-core CPU,
# bench/results/pipeline.md): recall of faces with eyes >= 12 px apart (what QualityPolicy.live() embeds)
# 0.951 at 640x384, 0.956 at 640x640, 0.964 at 960x544, 0.963 at 1280x736; 20-30 px faces 0.972 / 0.972 /
# 0.991 / 0.986; detector time ~9 / 14 / 17 / 31 ms per frame. 960x544 finds the most for about what the
# 640x640 letterbox costs, and on a GPU the detector is a small part of the cost anyway. On a CPU-only worker
# 640x384 halves the detector time (the pipeline then runs ~4.9x a naive per-frame loop instead of ~3.6x)
# for ~1.3 points of recall. For 4:3 cameras use (960, 736): the detector letterboxes whatever it is given.
DEFAULT_LIVE_DET_SIZE = (960, 544)
CPU_LIVE_DET_SIZE = (640, 384)
DEFAULT_DECISION = "frame"


def engine_on_gpu(engine) -> bool:
    backend = engine.detector.backend
    return any("CUDA" in p for p in backend.providers) or getattr(backend, "device", "cpu") == "cuda"


def default_live_det_size(engine) -> tuple[int, int]:
    """The live detector input for this engine's device: 960x544 on a GPU, 640x384 on a CPU (see above)."""
    return DEFAULT_LIVE_DET_SIZE if engine_on_gpu(engine) else CPU_LIVE_DET_SIZE


@dataclass(frozen=True)
class PipelineConfig:
    det_size: tuple[int, int] = DEFAULT_LIVE_DET_SIZE
    policy: QualityPolicy = field(default_factory=QualityPolicy.live)
    max_age: float = 1.0  # seconds a track survives without being seen
    embed_every: int = 10  # re-embed a track after this many observations without an embedding
    embed_margin: float = 0.05  # ...or when its quality score beats the best embedded one by this much
    iou_threshold: float = 0.2
    # One pass, one alert: when a track is broken (someone walks in front, the face turns away for a second)
    # its continuation is a new track; a new track matching a subject already alerted on this camera less
    # than this many seconds before (since that subject was last matched there) does not alert again.
    # 0 turns it off.
    repeat_alert_after_s: float = 60.0
    alert_crop_scale: float = 2.0  # the alert's face crop: the face box enlarged this much (square)
    alert_crop_max_side: int = 256  # ...and shrunk to at most this many pixels
    # Also embed each face's mirror image and average the two (twice the embedder's work per face).
    flip: bool = False
    # How a track's embeddings become the evidence the threshold is applied to (recognition.ml.decision).
    decision: TrackDecision = field(default_factory=lambda: decision_from_name(DEFAULT_DECISION))


@dataclass(eq=False)
class AlertCandidate:
    """A track's first match at or above the threshold: what the worker turns into an Alert."""

    camera_key: CameraKey
    track_id: int
    subject_id: Hashable
    score: float
    timestamp: float  # the frame's timestamp (see recognition.sources.Frame)
    frame_index: int
    face_crop: np.ndarray  # BGR: the face with context (box x alert_crop_scale, square), at most 256 px
    aligned_crop: np.ndarray  # BGR 112x112: what was embedded
    box: np.ndarray  # (4,) x1 y1 x2 y2 in frame pixels
    model_id: str
    threshold: float
    quality_score: float
    read_at: float | None = None  # wall-clock time (time.time()) the frame was read, set by run_cameras


@dataclass
class CameraCounts:
    """Counts only: no faces. Deltas in a StatsReport, totals in a RunSummary."""

    frames_processed: int = 0
    frames_dropped: int = 0  # produced by a live source but skipped because processing was slower
    faces_seen: int = 0  # detections
    tracks_started: int = 0  # ~ passers-by
    tracks_closed: int = 0
    embeddings_computed: int = 0
    alerts: int = 0
    alerts_suppressed: int = 0  # a broken track's continuation matching an already-alerted subject

    def add(self, other: CameraCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(eq=False)
class CameraPipeline:
    """Per-camera state between batches: the tracker and running totals."""

    camera_key: CameraKey
    tracker: FaceTracker
    totals: CameraCounts = field(default_factory=CameraCounts)
    last_timestamp: float | None = None
    last_alerted: dict = field(default_factory=dict)  # subject id -> when it last alerted / was matched here

    def is_repeat(self, subject_id: Hashable, timestamp: float, window: float) -> bool:
        """True when this subject alerted here less than ``window`` s ago; records the time either way."""
        last = self.last_alerted.get(subject_id)
        self.last_alerted[subject_id] = timestamp
        if len(self.last_alerted) > 64:  # forget subjects not seen for a while
            self.last_alerted = {k: t for k, t in self.last_alerted.items() if 0 <= timestamp - t < window}
        return window > 0 and last is not None and 0 <= timestamp - last < window

    @classmethod
    def create(cls, camera_key: CameraKey, config: PipelineConfig | None = None) -> CameraPipeline:
        config = config or PipelineConfig()
        tracker = FaceTracker(max_age=config.max_age, iou_threshold=config.iou_threshold,
                              embed_every=config.embed_every, embed_margin=config.embed_margin)
        return cls(camera_key, tracker)

    def close(self) -> int:
        """End every track (stream ended or deployment stopped); returns how many closed."""
        closed = len(self.tracker.flush())
        self.totals.tracks_closed += closed
        return closed


@dataclass
class BatchResult:
    alerts: list[AlertCandidate]
    cameras: dict[CameraKey, CameraCounts]  # this batch's counts per camera
    embeddings_computed: int
    tracks_closed: int
    timings: dict[str, float]  # seconds per stage: detect, track (align + quality + tracker), embed, match

    @property
    def faces_seen(self) -> dict[CameraKey, int]:
        return {key: counts.faces_seen for key, counts in self.cameras.items()}

    @property
    def detections(self) -> int:
        return sum(counts.faces_seen for counts in self.cameras.values())


def live_detector(engine, det_size: tuple[int, int] = DEFAULT_LIVE_DET_SIZE) -> FaceDetector:
    """A detector at ``det_size`` sharing the engine's detector session (no second model in memory).

    The engine's own detector keeps its size (640x640) for enrolment photos.
    """
    return engine.detector_at(det_size)


def face_context_crop(image: np.ndarray, box: np.ndarray, *, scale: float = 2.0, max_side: int = 256) -> np.ndarray:
    """A square crop around the face box (enlarged ``scale`` times), clipped to the frame, a copy."""
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    half = max(x2 - x1, y2 - y1) * scale / 2
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    height, width = image.shape[:2]
    left, top = int(max(0, cx - half)), int(max(0, cy - half))
    right, bottom = int(min(width, cx + half)), int(min(height, cy + half))
    if right <= left or bottom <= top:
        return np.zeros((1, 1, 3), np.uint8)
    crop = image[top:bottom, left:right]
    longest = max(crop.shape[:2])
    if longest > max_side:
        factor = max_side / longest
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor))),
                          interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop).copy()


@dataclass
class _Candidate:
    camera: CameraPipeline
    track: Track
    frame: Frame
    image: np.ndarray
    detection: int
    box: np.ndarray
    quality: object
    crop: np.ndarray


def process_batch(
    *,
    frames: Sequence[tuple[CameraKey, Frame]],
    engine,
    matcher: WatchlistMatcher | None,
    threshold: float,
    cameras: MutableMapping[CameraKey, CameraPipeline],
    policy: QualityPolicy | None = None,
    detector: FaceDetector | None = None,
    config: PipelineConfig | None = None,
    threshold_offsets: Mapping[Hashable, float] | None = None,
) -> BatchResult:
    """Detect, track, embed selectively and match the frames of several cameras in one pass.

    ``frames`` holds at most a few frames per camera, in capture order per camera (normally one each).
    ``cameras`` maps each camera to its :class:`CameraPipeline` (created with ``config`` when missing).
    ``engine`` needs ``detector`` and ``embedder`` (a ``FaceEngine``); ``detector`` defaults to
    ``live_detector(engine, config.det_size)``. An empty or missing watchlist embeds nothing.
    ``threshold_offsets`` raises the threshold for some subjects (e.g. entries enrolled as children): a
    track alerts when its evidence reaches ``threshold + threshold_offsets.get(subject, 0)``.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    config = config or PipelineConfig()
    policy = policy or config.policy
    detector = detector or live_detector(engine, config.det_size)
    crop_size = engine.embedder.spec.input_size
    timings = {"detect": 0.0, "track": 0.0, "embed": 0.0, "match": 0.0}
    counts: dict[CameraKey, CameraCounts] = {}
    alerts: list[AlertCandidate] = []
    tracks_closed = 0
    if not frames:
        return BatchResult(alerts, counts, 0, 0, timings)

    started = time.perf_counter()
    images = [ensure_bgr(frame.image) for _, frame in frames]
    detections = detector.detect(images)
    timings["detect"] = time.perf_counter() - started

    started = time.perf_counter()
    watching = matcher is not None and len(matcher) > 0
    chosen: dict[int, _Candidate] = {}  # id(track) -> the best frame of that track in this batch
    for (key, frame), image, found in zip(frames, images, detections, strict=True):
        camera = cameras.get(key)
        if camera is None:
            camera = cameras[key] = CameraPipeline.create(key, config)
        batch_counts = counts.setdefault(key, CameraCounts())
        if camera.last_timestamp is not None and frame.timestamp < camera.last_timestamp:
            restarted = len(camera.tracker.flush())  # the clock went back (source reopened): start afresh
            batch_counts.tracks_closed += restarted
            tracks_closed += restarted
            camera.last_alerted.clear()
        camera.last_timestamp = frame.timestamp
        if watching:
            crops = align_faces(image, found.landmarks, image_size=crop_size)
            qualities = [assess_face(landmarks=found.landmarks[i], det_score=found.scores[i], aligned_crop=crops[i])
                         for i in range(len(found))]
        else:  # nothing to match against: count faces, skip the per-face work
            crops, qualities = None, [None] * len(found)
        update = camera.tracker.update(frame.timestamp, found, qualities=qualities if watching else None)
        batch_counts.frames_processed += 1
        batch_counts.faces_seen += len(found)
        batch_counts.tracks_closed += len(update.closed)
        tracks_closed += len(update.closed)
        for index, (track, quality) in enumerate(zip(update.tracks, qualities, strict=True)):
            if track.hits == 1:
                batch_counts.tracks_started += 1
            if not watching or track.alerted or not policy.accepts(quality) or not track.should_embed(quality):
                continue
            previous = chosen.get(id(track))
            if previous is None or quality.score > previous.quality.score:
                chosen[id(track)] = _Candidate(camera, track, frame, image, index, found.boxes[index].copy(),
                                               quality, crops[index].copy())
        del crops, qualities, update  # nothing of a non-selected face outlives this loop
    timings["track"] = time.perf_counter() - started

    candidates = list(chosen.values())
    if candidates:
        started = time.perf_counter()
        vectors = engine.embedder.embed(np.stack([c.crop for c in candidates]), flip=config.flip).vectors
        timings["embed"] = time.perf_counter() - started
        started = time.perf_counter()
        decision = config.decision
        matches = matcher.top_k(vectors, decision.top_k)
        evidence = decision.evidence([c.track for c in candidates], vectors, [c.quality.score for c in candidates],
                                     matches, matcher)
        timings["match"] = time.perf_counter() - started
        for candidate, vector, found in zip(candidates, vectors, evidence, strict=True):
            track = candidate.track
            track.record_embedding(vector, quality=candidate.quality)
            counts[candidate.camera.camera_key].embeddings_computed += 1
            if found is None:
                continue
            needed = threshold + (threshold_offsets.get(found.subject_id, 0.0) if threshold_offsets else 0.0)
            passes = found.score >= needed
            # Keep the crop only for a match that counts: a non-matching face is not retained.
            track.record_match(found.subject_id, found.score, crop=candidate.crop if passes else None)
            if passes and not track.alerted:
                track.alerted = True
                if candidate.camera.is_repeat(found.subject_id, candidate.frame.timestamp, config.repeat_alert_after_s):
                    counts[candidate.camera.camera_key].alerts_suppressed += 1
                    continue
                counts[candidate.camera.camera_key].alerts += 1
                alerts.append(AlertCandidate(
                    camera_key=candidate.camera.camera_key, track_id=track.track_id, subject_id=found.subject_id,
                    score=float(found.score), timestamp=float(candidate.frame.timestamp),
                    frame_index=int(candidate.frame.index),
                    face_crop=face_context_crop(candidate.image, candidate.box, scale=config.alert_crop_scale,
                                                max_side=config.alert_crop_max_side),
                    aligned_crop=candidate.crop.copy(), box=candidate.box, model_id=engine.embedder.model_id,
                    threshold=float(needed), quality_score=float(candidate.quality.score),
                ))
    for key, batch_counts in counts.items():
        cameras[key].totals.add(batch_counts)
    return BatchResult(alerts, counts, len(candidates), tracks_closed, timings)


# --------------------------------------------------------------------------------------------- run loop

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


def _usable(image) -> bool:
    return (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.size > 0
            and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))))


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


class _Reader:
    """Reads one source in a thread. Live sources: keep the latest frame only. Others: hand over each frame."""

    def __init__(self, key: CameraKey, source: FrameSource, *, reconnect: bool, condition: threading.Condition,
                 stop: threading.Event, events: deque, backoff: Callable[[], Backoff]) -> None:
        self.key, self.source = key, source
        self.live = bool(getattr(source, "live", False))
        self.reconnect = reconnect
        self.condition, self.stop, self.events = condition, stop, events
        self.backoff = backoff()
        self.slot: tuple[Frame, float] | None = None
        self.dropped = 0
        self.bad_frames = 0
        self._source_dropped_seen = 0
        self.finished = False
        self.thread = threading.Thread(target=self._run, name=f"frames-{key}", daemon=True)

    def _status(self, status: str, detail: str) -> None:
        with self.condition:
            self.events.append((self.key, status, detail))
            self.condition.notify_all()

    def _may_retry(self) -> bool:
        return self.reconnect and self.live

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a broken source must not take the other cameras down
            logger.exception("frame source %s failed", redact_url(getattr(self.source, "url", "")))
            self._status("error", f"{type(exc).__name__}: {exc}")
        finally:
            try:
                self.source.close()
            except Exception:
                logger.exception("closing frame source %s", redact_url(getattr(self.source, "url", "")))
            with self.condition:
                self.finished = True
                self.condition.notify_all()

    def _loop(self) -> None:
        url = redact_url(getattr(self.source, "url", ""))
        if self.source.is_open:
            self._status("connected", url)  # opened by the caller
        while not self.stop.is_set():
            if not self.source.is_open:
                try:
                    self.source.open()
                except SourceUnavailable as exc:
                    if not self._may_retry():
                        self._status("unavailable", str(exc))
                        return
                    delay = self.backoff.next()
                    self._status("unavailable", f"{exc}; retrying in {delay:g} s")
                    self.stop.wait(delay)
                    continue
                self._status("connected", url)
            frame = self.source.read()
            if frame is None:
                if self.stop.is_set():
                    return
                if self.source.ended or not self._may_retry():
                    self._wait_until_taken()  # "ended" only once the last frame has gone into a batch
                    self._status("ended", f"{url}: end of stream")
                    return
                reason = getattr(self.source, "failed_reason", None) or "no frame"
                self.source.close()
                delay = self.backoff.next()
                self._status("lost", f"{url}: {reason}; reconnecting in {delay:g} s")
                self.stop.wait(delay)
                continue
            self.backoff.reset()
            if not _usable(frame.image):
                self.bad_frames += 1
                with self.condition:
                    self.dropped += 1
                if self.bad_frames == 1:  # a log line, not a status: the camera is still streaming
                    logger.warning("camera %s: unusable frame %s skipped", self.key, getattr(frame.image, "shape", None))
                continue
            self._deliver(frame)

    def _wait_until_taken(self) -> None:
        with self.condition:
            while self.slot is not None and not self.stop.is_set():
                self.condition.wait(0.1)

    def _deliver(self, frame: Frame) -> None:
        with self.condition:
            if self.live:
                if self.slot is not None:
                    self.dropped += 1
            else:
                while self.slot is not None and not self.stop.is_set():
                    self.condition.wait(0.1)
            self.slot = (frame, time.monotonic())
            self.condition.notify_all()

    def take(self) -> tuple[Frame, float] | None:
        """Caller holds the condition."""
        item, self.slot = self.slot, None
        return item

    def take_dropped(self) -> int:
        """Frames dropped since the last call: overwritten in the slot, or skipped by the source itself."""
        source_total = int(getattr(self.source, "dropped", 0) or 0)
        dropped = self.dropped + max(0, source_total - self._source_dropped_seen)
        self.dropped, self._source_dropped_seen = 0, source_total
        return dropped


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
    condition = threading.Condition()
    stop = threading.Event()
    events: deque = deque()
    readers = [_Reader(key, source, reconnect=reconnect, condition=condition, stop=stop, events=events,
                       backoff=backoff) for key, source in sources.items()]
    cameras: dict[CameraKey, CameraPipeline] = {r.key: CameraPipeline.create(r.key, config) for r in readers}
    totals = {r.key: CameraCounts() for r in readers}
    interval = {r.key: CameraCounts() for r in readers}
    latency = _Latency()
    interval_latency = _Latency()
    interval_latencies: dict[CameraKey, list[float]] = {}
    batches = interval_batches = frames_in_batches = 0
    started = last_stats = time.monotonic()
    reason = "ended"

    def dispatch_events() -> None:
        while True:
            with condition:
                if not events:
                    return
                key, status, detail = events.popleft()
            if status in ("unavailable", "lost", "error"):
                logger.warning("camera %s: %s (%s)", key, status, detail)
            if on_source_status is not None:
                on_source_status(key, status, detail)

    def collect_dropped() -> None:
        with condition:
            for reader in readers:
                dropped = reader.take_dropped()
                interval[reader.key].frames_dropped += dropped

    def report(now: float) -> None:
        nonlocal last_stats, interval_batches, interval_latency, interval_latencies
        collect_dropped()
        if on_stats is not None:
            on_stats(StatsReport(
                interval_s=now - last_stats, cameras=dict(interval.items()), batches=interval_batches,
                mean_latency_s=interval_latency.mean, max_latency_s=interval_latency.maximum,
                latencies_s=interval_latencies,
            ))
        interval_latencies = {}
        for key, counts in interval.items():
            totals[key].add(counts)
            interval[key] = CameraCounts()
        interval_batches, interval_latency, last_stats = 0, _Latency(), now

    def gather() -> list[tuple[CameraKey, Frame, float]] | None:
        """Frames for one batch; [] when it is time to check should_continue; None when all sources ended."""
        wait_until = time.monotonic() + check_interval
        first_frame_at = None
        with condition:
            while True:
                ready = [r for r in readers if r.slot is not None]
                waiting = [r for r in readers if r.slot is None and not r.finished]
                now = time.monotonic()
                if ready and first_frame_at is None:
                    first_frame_at = now
                if ready and (not waiting or now - first_frame_at >= batch_timeout or now >= wait_until):
                    return [(r.key, *r.take()) for r in ready]
                if not ready and not waiting:
                    return None
                if events or now >= wait_until:
                    return []
                deadline = wait_until if first_frame_at is None else min(wait_until, first_frame_at + batch_timeout)
                condition.wait(max(0.0, deadline - now))

    for reader in readers:
        reader.thread.start()
    try:
        while True:
            dispatch_events()
            if not should_continue():
                reason = "stopped"
                break
            batch = gather()
            if batch is None:
                dispatch_events()
                break
            if batch:
                with condition:
                    condition.notify_all()  # non-live readers may refill their slots while we work
                result = process_batch(frames=[(key, frame) for key, frame, _ in batch], engine=engine,
                                       matcher=matcher, threshold=threshold, cameras=cameras,
                                       policy=config.policy, detector=detector, config=config,
                                       threshold_offsets=threshold_offsets)
                done = time.monotonic()
                for key, _, received_at in batch:
                    interval_latency.add(done - received_at)
                    latency.add(done - received_at)
                    interval_latencies.setdefault(key, []).append(done - received_at)
                batches += 1
                interval_batches += 1
                frames_in_batches += len(batch)
                for key, counts in result.cameras.items():
                    interval[key].add(counts)
                wall_offset = time.time() - time.monotonic()
                read_at = {key: received_at + wall_offset for key, _, received_at in batch}
                for alert in result.alerts:
                    alert.read_at = read_at.get(alert.camera_key)
                    on_alert(alert)
            now = time.monotonic()
            if now - last_stats >= stats_interval:
                report(now)
    finally:
        stop.set()
        with condition:
            condition.notify_all()
        deadline = time.monotonic() + 2.0
        for reader in readers:
            if reader.thread.is_alive():
                reader.thread.join(max(0.0, deadline - time.monotonic()))
        for key, camera in cameras.items():
            interval[key].tracks_closed += camera.close()  # tracks end with the run; their faces go with them
    dispatch_events()
    report(time.monotonic())
    return RunSummary(
        reason=reason, elapsed_s=time.monotonic() - started, cameras=totals, batches=batches,
        frames_per_batch=frames_in_batches / batches if batches else 0.0,
        mean_latency_s=latency.mean, max_latency_s=latency.maximum,
    )
