"""Batched SCRFD face detection over frames of any sizes (one session call per batch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .backends import InferenceBackend
from .images import ensure_bgr
from .models import DetectorSpec


@dataclass(frozen=True)
class Detections:
    """Faces found in one frame, in original frame pixels, sorted by score (highest first)."""

    boxes: np.ndarray  # (N, 4) float32 x1, y1, x2, y2
    landmarks: np.ndarray  # (N, 5, 2) float32: eyes, nose tip, mouth corners; image-left point of each pair first
    scores: np.ndarray  # (N,) float32

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros((0,), np.float32))


def letterbox(frame: np.ndarray, *, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Resize keeping aspect ratio into the top-left corner of a black (W, H) canvas, as insightface does."""
    width, height = size
    frame_height, frame_width = frame.shape[:2]
    if frame_height / frame_width > height / width:
        new_height, new_width = height, int(height / (frame_height / frame_width))
    else:
        new_width, new_height = width, int(width * (frame_height / frame_width))
    new_width, new_height = max(1, new_width), max(1, new_height)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[:new_height, :new_width] = cv2.resize(frame, (new_width, new_height))
    return canvas, new_height / frame_height


def nms(boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float) -> np.ndarray:
    """Greedy NMS on score-sorted input; same '+1' pixel area convention as insightface's SCRFD."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        order = rest[inter / (areas[i] + areas[rest] - inter) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


class FaceDetector:
    def __init__(
        self,
        *,
        backend: InferenceBackend,
        spec: DetectorSpec,
        input_size: tuple[int, int] = (640, 640),
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
        batch_size: int = 32,
    ) -> None:
        width, height = input_size
        if width % 32 or height % 32 or width <= 0 or height <= 0:
            raise ValueError(f"detector input size must be positive multiples of 32, got {width}x{height}")
        self.backend = backend
        self.spec = spec
        self.input_size = (int(width), int(height))
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.batch_size = max(1, batch_size)  # frames per inference call; bounds the float32 input tensor
        self._anchor_centres = {stride: self._centres(stride) for stride in spec.strides}

    def _centres(self, stride: int) -> np.ndarray:
        width, height = self.input_size
        ys, xs = np.mgrid[: height // stride, : width // stride]
        centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) * stride).astype(np.float32)
        return np.repeat(centres, self.spec.anchors_per_location, axis=0)

    def detect(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        """Detect faces in BGR uint8 frames (any mix of sizes), ``batch_size`` frames per inference call."""
        results: list[Detections] = []
        for start in range(0, len(frames), self.batch_size):
            results.extend(self._detect_batch(frames[start : start + self.batch_size]))
        return results

    def _detect_batch(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        canvases, scales = zip(*(letterbox(ensure_bgr(frame), size=self.input_size) for frame in frames))
        mean, std = self.spec.input_mean, self.spec.input_std
        # One C++ pass: BGR->RGB, (x - mean) / std, HWC->NCHW float32 (what insightface does per image).
        batch = cv2.dnn.blobFromImages(list(canvases), 1.0 / std, self.input_size, (mean, mean, mean), swapRB=True)
        outputs = self.backend.run(batch)
        return [self._decode(outputs, index, scale) for index, scale in enumerate(scales)]

    def detect_one(self, frame: np.ndarray) -> Detections:
        return self.detect([frame])[0]

    def _decode(self, outputs: list[np.ndarray], index: int, scale: float) -> Detections:
        levels = len(self.spec.strides)
        scores, boxes, landmarks = [], [], []
        for level, stride in enumerate(self.spec.strides):
            level_scores = outputs[level][index][:, 0]
            keep = np.where(level_scores >= self.score_threshold)[0]
            if keep.size == 0:
                continue
            centres = self._anchor_centres[stride][keep]
            distances = outputs[level + levels][index][keep] * stride
            offsets = outputs[level + 2 * levels][index][keep].reshape(-1, 5, 2) * stride
            scores.append(level_scores[keep])
            boxes.append(np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], axis=1))
            landmarks.append(centres[:, None, :] + offsets)
        if not scores:
            return Detections.empty()
        all_scores = np.concatenate(scores).astype(np.float32)
        order = np.argsort(-all_scores, kind="stable")
        all_boxes = (np.concatenate(boxes)[order] / scale).astype(np.float32)
        all_landmarks = (np.concatenate(landmarks)[order] / scale).astype(np.float32)
        all_scores = all_scores[order]
        keep = nms(all_boxes, all_scores, iou_threshold=self.nms_threshold)
        return Detections(all_boxes[keep], all_landmarks[keep], all_scores[keep])

