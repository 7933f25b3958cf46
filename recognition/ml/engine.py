"""FaceEngine: detector + aligner + quality + embedder behind one object, for enrolment and live use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

from .align import align_faces
from .backends import BackendSettings, create_backend
from .detector import FaceDetector
from .embedder import FaceEmbedder
from .images import decode_image, ensure_bgr
from .input_sizes import reference_det_size
from .models import find_model_pack, inspect_detector, inspect_recogniser
from .quality import FaceQuality, QualityPolicy, assess_face

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    model_dir: str | Path | None = None  # None = bundled research-only pack (SCRFD-500M + ArcFace MBF)
    backend: str = "onnxruntime"
    providers: tuple[str, ...] | None = None  # None = CUDA when available, else CPU
    intra_op_threads: int | None = None
    inter_op_threads: int = 1
    max_batch_size: int = 256  # faces per recogniser call
    det_batch_size: int = 32  # frames per detector call
    det_size: tuple[int, int] = (640, 640)  # (width, height), multiples of 32
    det_threshold: float = 0.5
    nms_threshold: float = 0.4
    flip: bool = False  # average each embedding with that of the mirrored crop


@dataclass(frozen=True)
class Face:
    box: np.ndarray  # (4,) x1 y1 x2 y2 in frame pixels
    landmarks: np.ndarray  # (5, 2)
    det_score: float
    quality: FaceQuality
    aligned_crop: np.ndarray  # (112, 112, 3) BGR uint8
    embedding: np.ndarray | None  # (D,) unit float32, None when embedding was not asked for
    model_id: str  # recogniser that made the embedding

    @property
    def area(self) -> float:
        return float(max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1]))


class SingleFaceOutcome(str, Enum):
    NO_FACE = "no_face"
    ONE_FACE = "one_face"
    SEVERAL_FACES = "several_faces"  # the largest face is returned, flagged for a human to check


@dataclass(frozen=True)
class SingleFaceResult:
    outcome: SingleFaceOutcome
    face: Face | None
    face_count: int
    model_id: str
    refusal_reasons: list[str] = field(default_factory=list)  # from the quality policy, when one was given
    runner_up_area: float = 0.0  # area of the second largest face, to tell a bystander from a group photo

    @property
    def several_faces(self) -> bool:
        return self.outcome is SingleFaceOutcome.SEVERAL_FACES

    @property
    def embedding(self) -> np.ndarray | None:
        return None if self.face is None else self.face.embedding


class FaceEngine:
    def __init__(self, *, config: EngineConfig | None = None) -> None:
        self.config = config = config or EngineConfig()
        self.pack = find_model_pack(model_dir=config.model_dir)
        settings = BackendSettings(
            providers=config.providers, intra_op_threads=config.intra_op_threads,
            inter_op_threads=config.inter_op_threads, max_batch_size=config.max_batch_size,
        )
        detector_spec = inspect_detector(self.pack.detector)  # validates both files before any backend starts
        recogniser_spec = inspect_recogniser(self.pack.recogniser)
        self.detector = FaceDetector(
            backend=create_backend(config.backend, model_path=self.pack.detector.path, settings=settings),
            spec=detector_spec,
            input_size=tuple(config.det_size), score_threshold=config.det_threshold,
            nms_threshold=config.nms_threshold, batch_size=config.det_batch_size,
        )
        self.embedder = FaceEmbedder(
            backend=create_backend(config.backend, model_path=self.pack.recogniser.path, settings=settings),
            spec=recogniser_spec, model_id=self.pack.recogniser.model_id, flip=config.flip,
        )
        self._detectors: dict[tuple[int, int], FaceDetector] = {}
        self._detectors_lock = threading.Lock()
        logger.info("face engine ready: pack %s on %s", self.pack.pack_id, self.detector.backend.providers)

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def detector_at(self, size: tuple[int, int] | None) -> FaceDetector:
        """A detector at another input size sharing this engine's model session (no second model loaded)."""
        if size is None or tuple(size) == self.detector.input_size:
            return self.detector
        size = (int(size[0]), int(size[1]))
        with self._detectors_lock:
            if size not in self._detectors:
                base = self.detector
                self._detectors[size] = FaceDetector(
                    backend=base.backend, spec=base.spec, input_size=size, score_threshold=base.score_threshold,
                    nms_threshold=base.nms_threshold, batch_size=base.batch_size)
            return self._detectors[size]

    def analyse(self, frames: Sequence[np.ndarray], *, embed: bool = True,
                det_size: tuple[int, int] | None = None) -> list[list[Face]]:
        """Detect, align, assess and (optionally) embed every face in every frame, batched across frames."""
        frames = [ensure_bgr(frame) for frame in frames]
        detections = self.detector_at(det_size).detect(frames)
        crop_size = self.embedder.spec.input_size
        crops = [align_faces(frame, found.landmarks, image_size=crop_size) for frame, found in zip(frames, detections)]
        vectors = None
        if embed and any(len(c) for c in crops):
            vectors = self.embedder.embed(np.concatenate(crops)).vectors
        results, offset = [], 0
        for found, frame_crops in zip(detections, crops):
            faces = []
            for i in range(len(found)):
                quality = assess_face(landmarks=found.landmarks[i], det_score=found.scores[i], aligned_crop=frame_crops[i])
                embedding = None if vectors is None else vectors[offset + i]
                faces.append(Face(found.boxes[i], found.landmarks[i], float(found.scores[i]), quality, frame_crops[i],
                                  embedding, self.model_id))
            offset += len(found)
            results.append(faces)
        return results

    def embed_single_face(self, image: np.ndarray | bytes, *, policy: QualityPolicy | None = None) -> SingleFaceResult:
        """Embed the one face of a reference image; several faces -> the largest, flagged."""
        return self.embed_single_faces([image], policy=policy)[0]

    def embed_single_faces(self, images: Sequence[np.ndarray | bytes], *, policy: QualityPolicy | None = None,
                           det_size: tuple[int, int] | None = None) -> list[SingleFaceResult]:
        """`embed_single_face` for many reference images: one detector pass and one embedder pass in batches.

        `det_size` runs the detector at another input size (small photos need no 640x640 canvas)."""
        frames = [decode_image(i) if isinstance(i, (bytes, bytearray, memoryview)) else i for i in images]
        chosen: list[Face | None] = []
        counts: list[int] = []
        runners_up: list[float] = []
        for frame, faces in zip(frames, self.analyse(frames, embed=False, det_size=det_size)):
            by_area = sorted(faces or self._analyse_tight_crop(frame), key=lambda f: -f.area)
            counts.append(len(by_area))
            chosen.append(by_area[0] if by_area else None)
            runners_up.append(by_area[1].area if len(by_area) > 1 else 0.0)
        crops = [face.aligned_crop for face in chosen if face is not None]
        vectors = iter(self.embedder.embed(np.stack(crops)).vectors if crops else [])
        results = []
        for face, count, runner_up in zip(chosen, counts, runners_up):
            if face is None:
                results.append(SingleFaceResult(SingleFaceOutcome.NO_FACE, None, 0, self.model_id,
                                                ["no face found in the image"]))
                continue
            face = replace(face, embedding=next(vectors))
            outcome = SingleFaceOutcome.ONE_FACE if count == 1 else SingleFaceOutcome.SEVERAL_FACES
            reasons = policy.refusal_reasons(face.quality) if policy is not None else []
            results.append(SingleFaceResult(outcome, face, count, self.model_id, reasons, runner_up))
        return results

    def embed_reference_images(self, images: Sequence[np.ndarray], *,
                               policy: QualityPolicy | None = None) -> list[SingleFaceResult]:
        """`embed_single_faces`, each photo detected at the input its size calls for (`reference_det_size`)."""
        groups: dict[tuple[int, int] | None, list[int]] = {}
        for i, image in enumerate(images):
            groups.setdefault(reference_det_size(image), []).append(i)
        results: list[SingleFaceResult | None] = [None] * len(images)
        for det_size, indices in groups.items():
            found = self.embed_single_faces([images[i] for i in indices], policy=policy, det_size=det_size)
            for i, result in zip(indices, found, strict=True):
                results[i] = result
        return results

    def _analyse_tight_crop(self, frame: np.ndarray) -> list[Face]:
        """Retry on a black-bordered copy: a face filling the whole image (a tight passport-style crop)
        is larger than SCRFD's biggest anchors once letterboxed, and is missed."""
        pad = max(frame.shape[:2]) // 2
        padded = cv2.copyMakeBorder(ensure_bgr(frame), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        # Black is what warpAffine fills outside the image anyway, so crops and quality stay valid.
        faces = self.analyse([padded], embed=False)[0]
        return [replace(f, box=f.box - pad, landmarks=f.landmarks - pad) for f in faces]
