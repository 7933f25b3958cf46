"""One batch of frames (one per camera) through detection, tracking, selective embedding and matching. No Django.

Per batch (:func:`process_batch`):

1. detect faces in every frame with ONE batched detector call, at the live input size
   (``recognition.ml.input_sizes``, chosen on the street video: see ``bench/pipeline.py``);
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
module (faces seen, frames, embeddings, tracks per camera). The threaded loop over the cameras is
:mod:`recognition.run_loop`.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from recognition.ml.align import align_faces
from recognition.ml.decision import TrackDecision, decision_from_name
from recognition.ml.detector import FaceDetector
from recognition.ml.images import ensure_bgr
from recognition.ml.input_sizes import DEFAULT_LIVE_DET_SIZE
from recognition.ml.matcher import WatchlistMatcher
from recognition.ml.quality import QualityPolicy, assess_face
from recognition.ml.tracker import FaceTracker, Track
from recognition.source_base import Frame

CameraKey = Hashable
DEFAULT_DECISION = "frame"


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
    timings = {"detect": 0.0, "track": 0.0, "embed": 0.0, "match": 0.0}
    counts: dict[CameraKey, CameraCounts] = {}
    if not frames:
        return BatchResult([], counts, 0, 0, timings)

    started = time.perf_counter()
    images = [ensure_bgr(frame.image) for _, frame in frames]
    detections = detector.detect(images)
    timings["detect"] = time.perf_counter() - started

    started = time.perf_counter()
    watching = matcher is not None and len(matcher) > 0
    candidates, tracks_closed = _track(frames, images, detections, cameras=cameras, counts=counts, config=config,
                                       policy=policy, watching=watching, engine=engine)
    timings["track"] = time.perf_counter() - started

    alerts = _embed_and_match(candidates, engine=engine, matcher=matcher, threshold=threshold, config=config,
                              threshold_offsets=threshold_offsets, counts=counts, timings=timings)
    for key, batch_counts in counts.items():
        cameras[key].totals.add(batch_counts)
    return BatchResult(alerts, counts, len(candidates), tracks_closed, timings)


def _track(frames, images, detections, *, cameras: MutableMapping[CameraKey, CameraPipeline],
           counts: dict[CameraKey, CameraCounts], config: PipelineConfig, policy: QualityPolicy, watching: bool,
           engine) -> tuple[list[_Candidate], int]:
    """Update each camera's tracker with its faces; the best face of each track that wants an embedding
    (none when not ``watching``: nothing to match against)."""
    crop_size = engine.embedder.spec.input_size
    tracks_closed = 0
    chosen: dict[int, _Candidate] = {}  # id(track) -> the best frame of that track in this batch
    for (key, frame), image, found in zip(frames, images, detections):
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
        for index, (track, quality) in enumerate(zip(update.tracks, qualities)):
            if track.hits == 1:
                batch_counts.tracks_started += 1
            if not watching or track.alerted or not policy.accepts(quality) or not track.should_embed(quality):
                continue
            previous = chosen.get(id(track))
            if previous is None or quality.score > previous.quality.score:
                chosen[id(track)] = _Candidate(camera, track, frame, image, index, found.boxes[index].copy(),
                                               quality, crops[index].copy())
        del crops, qualities, update  # nothing of a non-selected face outlives this loop
    return list(chosen.values()), tracks_closed


def _embed_and_match(candidates: list[_Candidate], *, engine, matcher: WatchlistMatcher | None, threshold: float,
                     config: PipelineConfig, threshold_offsets: Mapping[Hashable, float] | None,
                     counts: dict[CameraKey, CameraCounts], timings: dict[str, float]) -> list[AlertCandidate]:
    """Embed the candidates in one call, match them in one call, and decide per track: the new alerts."""
    alerts: list[AlertCandidate] = []
    if not candidates:
        return alerts
    started = time.perf_counter()
    vectors = engine.embedder.embed(np.stack([c.crop for c in candidates]), flip=config.flip).vectors
    timings["embed"] = time.perf_counter() - started
    started = time.perf_counter()
    decision = config.decision
    matches = matcher.top_k(vectors, decision.top_k)
    evidence = decision.evidence([c.track for c in candidates], vectors, [c.quality.score for c in candidates],
                                 matches, matcher)
    timings["match"] = time.perf_counter() - started
    for candidate, vector, found in zip(candidates, vectors, evidence):
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
    return alerts
