"""Per-camera face tracking: one passer-by = one track, embedded a few times, alerted at most once.

Time is whatever unit the caller passes to ``update`` (frame index or seconds); ``max_age`` uses it too.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .detector import Detections
from .quality import FaceQuality

_NO_LINK = 1e6


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(A, B) intersection over union of x1y1x2y2 boxes."""
    a, b = boxes_a[:, None, :], boxes_b[None, :, :]
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = width * height
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(area_a + area_b - inter, 1e-9)


@dataclass(eq=False)
class Track:
    track_id: int
    first_seen: float
    last_seen: float
    box: np.ndarray
    landmarks: np.ndarray
    det_score: float
    embed_margin: float = 0.05
    embed_every: int = 10
    hits: int = 1
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))  # box change per time unit
    embedding: np.ndarray | None = None  # running mean of this track's embeddings, for association
    best_quality: FaceQuality | None = None
    best_crop: np.ndarray | None = None
    embed_count: int = 0
    embedded_quality_score: float = -1.0  # best quality score among the frames embedded so far
    observations_since_embed: int = 0
    best_match_subject: Hashable | None = None
    best_match_score: float = -1.0
    best_match_crop: np.ndarray | None = None
    alerted: bool = False
    decision_state: object | None = None  # the alert rule's memory of this track (recognition.ml.decision)

    def should_embed(self, quality: FaceQuality) -> bool:
        """Embed the first frame, any frame clearly better than those embedded, and one every ``embed_every``."""
        return (
            self.embed_count == 0
            or quality.score > self.embedded_quality_score + self.embed_margin
            or self.observations_since_embed >= self.embed_every
        )

    def record_embedding(self, embedding: np.ndarray, *, quality: FaceQuality | None = None) -> None:
        vector = np.asarray(embedding, dtype=np.float32).ravel()
        mean = vector if self.embedding is None else self.embedding * min(self.embed_count, 4) + vector
        self.embedding = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        self.embed_count += 1
        self.observations_since_embed = 0
        if quality is not None:
            self.embedded_quality_score = max(self.embedded_quality_score, quality.score)

    def record_match(self, subject_id: Hashable, score: float, *, crop: np.ndarray | None = None) -> bool:
        """Keep the best watchlist match seen on this track; True when this one is the new best."""
        if score <= self.best_match_score:
            return False
        self.best_match_subject, self.best_match_score = subject_id, float(score)
        if crop is not None:
            self.best_match_crop = crop.copy()
        return True

    def predicted_box(self, timestamp: float) -> np.ndarray:
        return self.box + self.velocity * (timestamp - self.last_seen)


@dataclass(frozen=True)
class TrackerUpdate:
    tracks: list[Track]  # the track of each detection, in detection order
    closed: list[Track]  # tracks that ended (not seen for longer than max_age)


class FaceTracker:
    """Tracks faces for ONE camera by box overlap plus, when given, embedding similarity."""

    def __init__(
        self,
        *,
        max_age: float = 1.0,
        iou_threshold: float = 0.2,
        rescue_similarity: float = 0.45,
        veto_similarity: float = 0.05,
        max_jump_in_face_widths: float = 2.0,
        embed_margin: float = 0.05,
        embed_every: int = 10,
    ) -> None:
        self.max_age = max_age
        self.iou_threshold = iou_threshold
        self.rescue_similarity = rescue_similarity  # links non-overlapping boxes when close and this similar
        self.veto_similarity = veto_similarity  # never links boxes whose faces are less similar than this
        self.max_jump_in_face_widths = max_jump_in_face_widths
        self.embed_margin = embed_margin
        self.embed_every = embed_every
        self.active: list[Track] = []
        self._next_id = 1

    def update(
        self,
        timestamp: float,
        detections: Detections,
        embeddings: np.ndarray | None = None,
        *,
        qualities: Sequence[FaceQuality] | None = None,
        crops: np.ndarray | None = None,
    ) -> TrackerUpdate:
        closed = [t for t in self.active if timestamp - t.last_seen > self.max_age]
        self.active = [t for t in self.active if t not in closed]
        pairs = self._associate(timestamp, detections, embeddings)
        assigned: list[Track | None] = [None] * len(detections)
        for track_index, detection_index in pairs:
            assigned[detection_index] = self.active[track_index]
            self._observe(self.active[track_index], timestamp, detections, detection_index)
        tracks: list[Track] = [self._start(timestamp, detections, detection_index) if track is None else track
                               for detection_index, track in enumerate(assigned)]
        for detection_index, track in enumerate(tracks):
            if embeddings is not None:
                quality = qualities[detection_index] if qualities is not None else None
                track.record_embedding(embeddings[detection_index], quality=quality)
            if qualities is not None:
                self._keep_best_crop(track, qualities[detection_index], None if crops is None else crops[detection_index])
        return TrackerUpdate(tracks=tracks, closed=closed)

    def flush(self) -> list[Track]:
        """Close every track (end of stream or deployment stop)."""
        closed, self.active = self.active, []
        return closed

    def _associate(self, timestamp: float, detections: Detections, embeddings: np.ndarray | None) -> list[tuple[int, int]]:
        if not self.active or not len(detections):
            return []
        predicted = np.stack([t.predicted_box(timestamp) for t in self.active])
        iou = box_iou(predicted, detections.boxes)
        cost = np.where(iou >= self.iou_threshold, 1.0 - iou, _NO_LINK)
        if embeddings is not None:
            cost = self._with_embeddings(cost, iou, predicted, detections, np.asarray(embeddings, np.float32))
        pairs = _assign(cost)
        return [(t, d) for t, d in pairs if cost[t, d] < _NO_LINK]

    def _with_embeddings(self, cost, iou, predicted, detections, embeddings):
        for t, track in enumerate(self.active):
            if track.embedding is None:
                continue
            similarity = embeddings @ track.embedding
            centre_shift = np.linalg.norm(_centres(detections.boxes) - _centres(predicted[t : t + 1]), axis=1)
            face_width = max(float(predicted[t, 2] - predicted[t, 0]), 1.0)
            near = centre_shift <= self.max_jump_in_face_widths * face_width
            rescued = near & (similarity >= self.rescue_similarity)
            combined = (1.0 - iou[t]) + (1.0 - similarity) / 2
            cost[t] = np.where((cost[t] < _NO_LINK) | rescued, combined, _NO_LINK)
            cost[t] = np.where(similarity < self.veto_similarity, _NO_LINK, cost[t])
        return cost

    def _observe(self, track: Track, timestamp: float, detections: Detections, index: int) -> None:
        elapsed = timestamp - track.last_seen
        box = detections.boxes[index].astype(np.float32)
        if elapsed > 0:
            track.velocity = 0.5 * track.velocity + 0.5 * (box - track.box) / elapsed
        track.box, track.landmarks = box, detections.landmarks[index]
        track.det_score = float(detections.scores[index])
        track.last_seen = timestamp
        track.hits += 1
        track.observations_since_embed += 1

    def _start(self, timestamp: float, detections: Detections, index: int) -> Track:
        track = Track(
            track_id=self._next_id, first_seen=timestamp, last_seen=timestamp,
            box=detections.boxes[index].astype(np.float32), landmarks=detections.landmarks[index],
            det_score=float(detections.scores[index]), embed_margin=self.embed_margin, embed_every=self.embed_every,
        )
        self._next_id += 1
        self.active.append(track)
        return track

    @staticmethod
    def _keep_best_crop(track: Track, quality: FaceQuality, crop: np.ndarray | None) -> None:
        if track.best_quality is None or quality.score > track.best_quality.score:
            track.best_quality = quality
            track.best_crop = None if crop is None else crop.copy()


def _centres(boxes: np.ndarray) -> np.ndarray:
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)


def _assign(cost: np.ndarray) -> list[tuple[int, int]]:
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        return _greedy_assign(cost)
    rows, cols = linear_sum_assignment(cost)
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


def _greedy_assign(cost: np.ndarray) -> list[tuple[int, int]]:
    pairs, used_rows, used_cols = [], set(), set()
    for flat in np.argsort(cost, axis=None, kind="stable"):
        row, col = divmod(int(flat), cost.shape[1])
        if row not in used_rows and col not in used_cols and cost[row, col] < _NO_LINK:
            pairs.append((row, col))
            used_rows.add(row)
            used_cols.add(col)
    return pairs
