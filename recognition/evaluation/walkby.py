"""Walk-by scenes: face photos of passers-by approaching a street camera, frame by frame. No Django.

A passer-by is one photo of a person. Over a walk of ``walk_seconds`` at the worker's processed frame
rate, the face grows from ``inter_ocular[0]`` to ``inter_ocular[1]`` px between the eyes (constant
walking speed: the distance to the camera falls linearly, so the face size grows as its inverse). The
photo's central face is cut out with its whole head (hair to chin: the recogniser's crop holds them;
a bystander in the photo does not walk past too), softened (Gaussian blur and a motion blur that grows
as the face comes closer), pasted with a feathered head-shaped mask onto a background frame, with the
other passers-by of the scene in their own lanes, and the whole frame is JPEG-compressed as a camera
stream would be.

Everything is drawn from ``numpy.random.default_rng`` seeded by (seed, scene, passer-by key), so a
scene is the same whatever else is in the run. Backgrounds are a plug-in point: :class:`Background`
and the :data:`BACKGROUNDS` registry.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class WalkByConfig:
    frame_size: tuple[int, int] = (1920, 1080)  # (width, height) of the camera
    fps: float = 25.0  # frames the worker processes per second (see docs/evaluation.md)
    walk_seconds: float = 4.0
    inter_ocular: tuple[float, float] = (10.0, 80.0)  # px between the eyes at the start and the end of the walk
    lanes: int = 5  # passers-by in one scene, each in its own column of the frame
    blur_sigma: tuple[float, float] = (0.3, 1.0)  # Gaussian blur of the face (optics, focus), frame px
    motion_px: tuple[float, float] = (0.0, 3.0)  # motion-blur length at the end of the walk, frame px
    jpeg_quality: tuple[int, int] = (40, 70)  # whole-frame stream compression, drawn per frame
    crop_eye_widths: float = 4.4  # side of the square cut around the photo's head, in eye distances
    # The head kept from the photo (an ellipse, in eye distances): hair to chin and ear to ear, centred a little
    # above the eyes. Everything outside it is the street, as it is around a real passer-by's head; cutting
    # closer removes forehead and hair, which the recogniser's crop holds (see docs/evaluation.md).
    head_width: float = 2.8
    head_height: float = 4.0
    head_centre_above_eyes: float = 0.1
    version: int = 2  # bump when rendering changes

    def __post_init__(self) -> None:
        low, high = self.inter_ocular
        if not 0 < low <= high:
            raise ValueError("inter_ocular must be (min, max) with 0 < min <= max")
        if self.fps <= 0 or self.walk_seconds <= 0 or self.lanes < 1:
            raise ValueError("fps, walk_seconds and lanes must be positive")

    @property
    def frames(self) -> int:
        return max(2, int(round(self.walk_seconds * self.fps)))

    def inter_ocular_at(self, frame: int) -> float:
        """Eye distance at ``frame`` of the walk: 1/size falls linearly with the distance walked."""
        low, high = self.inter_ocular
        t = min(max(frame / (self.frames - 1), 0.0), 1.0)
        return 1.0 / (1.0 / low + (1.0 / high - 1.0 / low) * t)

    def as_dict(self) -> dict:
        return asdict(self) | {"frames_per_walk": self.frames}


@dataclass(frozen=True)
class SourceFace:
    """The photo of a passer-by and its face as the detector found it (the central face)."""

    key: str  # stable name, e.g. "lfw-dev/Name/Name_0002.jpg"
    image: np.ndarray  # BGR
    box: np.ndarray  # (4,) x1 y1 x2 y2
    landmarks: np.ndarray  # (5, 2): eyes, nose, mouth corners

    @property
    def inter_ocular(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))


@dataclass(frozen=True)
class Placement:
    """Where a passer-by's face is in one frame."""

    walker: int  # index in the scene
    box: np.ndarray  # (4,) face box in frame pixels
    landmarks: np.ndarray  # (5, 2)
    inter_ocular: float


def _rng(seed: int, *parts) -> np.random.Generator:
    salt = int(hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16], 16)
    return np.random.default_rng([int(seed), salt])


class Background(ABC):
    """Frames behind the passers-by, in the camera's size."""

    name: str = ""

    @abstractmethod
    def frame(self, index: int, size: tuple[int, int]) -> np.ndarray:
        """A BGR frame of ``size`` (width, height) for scene frame ``index`` (a new array)."""

    def describe(self) -> dict:
        return {"name": self.name}


class VideoBackground(Background):
    """Consecutive frames of a street video, played forwards and backwards (no jump at the loop): real
    pedestrians, whose faces the pipeline also finds; their alerts are reported apart."""

    name = "video"

    def __init__(self, path: str | Path, *, max_frames: int = 250) -> None:
        self.path = Path(path)
        capture = cv2.VideoCapture(str(self.path))
        self._encoded: list[bytes] = []
        try:
            while len(self._encoded) < max_frames:
                ok, image = capture.read()
                if not ok:
                    break
                self._encoded.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
        finally:
            capture.release()
        if not self._encoded:
            raise ValueError(f"no frames could be read from {self.path}")
        self._cache: dict[tuple[int, tuple[int, int]], np.ndarray] = {}

    def frame(self, index: int, size: tuple[int, int]) -> np.ndarray:
        count = len(self._encoded)
        period = max(1, 2 * count - 2)
        position = index % period
        position = position if position < count else period - position
        key = (position, tuple(size))
        image = self._cache.get(key)
        if image is None:
            image = cv2.imdecode(np.frombuffer(self._encoded[position], np.uint8), cv2.IMREAD_COLOR)
            if (image.shape[1], image.shape[0]) != tuple(size):
                image = cv2.resize(image, tuple(size), interpolation=cv2.INTER_AREA)
            if len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = image
        return image.copy()

    def describe(self) -> dict:
        return {"name": self.name, "path": str(self.path), "frames": len(self._encoded)}


class SyntheticBackground(Background):
    """A textured grey street-like gradient with no faces, for runs without the shared video."""

    name = "synthetic"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._base: dict[tuple[int, int], np.ndarray] = {}

    def frame(self, index: int, size: tuple[int, int]) -> np.ndarray:
        width, height = size
        base = self._base.get(tuple(size))
        if base is None:
            rng = np.random.default_rng(self.seed)
            ramp = np.linspace(150, 70, height, dtype=np.float32)[:, None, None]
            noise = cv2.GaussianBlur(rng.normal(0, 25, (height, width, 3)).astype(np.float32), (0, 0), 6)
            base = self._base[tuple(size)] = np.clip(ramp + noise, 0, 255).astype(np.uint8)
        shift = (index * 3) % width  # the scene drifts a little, as a real background never stands still
        return np.ascontiguousarray(np.roll(base, shift, axis=1))


BACKGROUNDS: dict[str, Callable[..., Background]] = {"video": VideoBackground, "synthetic": SyntheticBackground}


def create_background(name: str, **kwargs) -> Background:
    try:
        factory = BACKGROUNDS[name]
    except KeyError:
        raise ValueError(f"unknown background {name!r} (known: {sorted(BACKGROUNDS)})") from None
    return factory(**kwargs)


def _motion_kernel(length: float, angle: float) -> np.ndarray | None:
    if length < 1.0:
        return None
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    centre = size // 2
    dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
    cv2.line(kernel, (round(centre - dx), round(centre - dy)), (round(centre + dx), round(centre + dy)), 1.0, 1,
             cv2.LINE_AA)
    return kernel / max(float(kernel.sum()), 1e-6)


@dataclass(frozen=True)
class _WalkerDraw:
    x: float  # face centre at the end of the walk, share of the lane's width
    y_start: float  # face centre height, share of the frame height (far)
    y_end: float  # (near)
    drift: float  # sideways drift over the walk, share of the lane width
    blur_sigma: float
    motion_px: float
    motion_angle: float


EYES_TO_MOUTH = 1.15  # eye-line to mouth-line distance of a frontal face, in eye distances (ArcFace's template)


def _head_geometry(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Eye midpoint, the unit vector from the eyes down the face, and the face's scale in eye distances of a
    frontal face: a turned head shows its eyes closer together but not its mouth nearer the eyes, a lowered
    one the reverse, so the larger of the two measures is the head's size."""
    landmarks = np.asarray(landmarks, np.float64)
    eyes = (landmarks[0] + landmarks[1]) / 2
    down = (landmarks[3] + landmarks[4]) / 2 - eyes
    eyes_to_mouth = float(np.linalg.norm(down))
    scale = max(float(np.linalg.norm(landmarks[1] - landmarks[0])), eyes_to_mouth / EYES_TO_MOUTH, 1.0)
    return eyes, down / max(eyes_to_mouth, 1e-6), scale


def head_centre(landmarks: np.ndarray, config: WalkByConfig) -> np.ndarray:
    eyes, down, scale = _head_geometry(landmarks)
    return eyes - down * config.head_centre_above_eyes * scale


def head_side(landmarks: np.ndarray, config: WalkByConfig) -> float:
    """Side of the square cut around the head, px."""
    return config.crop_eye_widths * _head_geometry(landmarks)[2]


def head_mask(side: int, landmarks: np.ndarray, config: WalkByConfig) -> np.ndarray:
    """(side, side) float32 alpha, 1 on the head drawn around ``landmarks`` (patch pixels), feathered."""
    _, down, scale = _head_geometry(landmarks)
    centre = head_centre(landmarks, config)
    mask = np.zeros((side, side), np.float32)
    axes = (max(1, int(round(config.head_width * scale / 2))), max(1, int(round(config.head_height * scale / 2))))
    angle = math.degrees(math.atan2(-down[0], down[1]))  # the face's tilt: 0 when upright
    cv2.ellipse(mask, (int(round(centre[0])), int(round(centre[1]))), axes, angle, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), max(0.5, 0.12 * scale))


class WalkByScene:
    """``len(sources)`` <= lanes passers-by walking towards the camera at the same time."""

    def __init__(self, sources: Sequence[SourceFace], config: WalkByConfig, *, background: Background,
                 seed: int = 0, scene_index: int = 0) -> None:
        if not 1 <= len(sources) <= config.lanes:
            raise ValueError(f"a scene holds 1 to {config.lanes} passers-by")
        self.sources, self.config, self.background = list(sources), config, background
        self.seed, self.scene_index = seed, scene_index
        self._lanes = _rng(seed, "lanes", scene_index).permutation(config.lanes)[: len(sources)]
        self._draws = []
        for source in self.sources:
            rng = _rng(seed, "walker", scene_index, source.key)
            self._draws.append(_WalkerDraw(
                x=float(rng.uniform(0.4, 0.6)), y_start=float(rng.uniform(0.25, 0.35)), y_end=float(rng.uniform(0.4, 0.5)),
                drift=float(rng.uniform(-0.15, 0.15)), blur_sigma=float(rng.uniform(*config.blur_sigma)),
                motion_px=float(rng.uniform(*config.motion_px)), motion_angle=float(rng.uniform(0, math.pi))))
        self._patches = [self._face_patch(source) for source in self.sources]

    @property
    def frames(self) -> int:
        return self.config.frames

    def _face_patch(self, source: SourceFace) -> tuple[np.ndarray, np.ndarray, float]:
        """The square cut around the photo's head (padded by edge replication), its origin and side."""
        side = head_side(source.landmarks, self.config)
        x0, y0 = head_centre(source.landmarks, self.config) - side / 2
        pad = int(math.ceil(side))
        padded = cv2.copyMakeBorder(source.image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        left, top = int(round(x0)) + pad, int(round(y0)) + pad
        size = int(round(side))
        return padded[top : top + size, left : left + size].copy(), np.array([round(x0), round(y0)], np.float64), float(size)

    def placements(self, frame: int) -> list[Placement]:
        return [self._place(i, frame)[0] for i in range(len(self.sources))]

    def _place(self, walker: int, frame: int) -> tuple[Placement, tuple[int, int], int]:
        config, draw, source = self.config, self._draws[walker], self.sources[walker]
        patch, origin, side = self._patches[walker]
        width, height = config.frame_size
        target = config.inter_ocular_at(frame)
        scale = target / max(source.inter_ocular, 1e-6)
        out = max(4, int(round(side * scale)))
        scale = out / side
        progress = min(max(frame / (config.frames - 1), 0.0), 1.0)
        lane_width = width / config.lanes
        cx = (self._lanes[walker] + draw.x + draw.drift * (progress - 1.0)) * lane_width
        cy = (draw.y_start + (draw.y_end - draw.y_start) * progress) * height
        left, top = int(round(cx - out / 2)), int(round(cy - out / 2))
        offset = np.array([left, top], np.float64)
        box = np.concatenate([(source.box[:2] - origin) * scale + offset, (source.box[2:4] - origin) * scale + offset])
        landmarks = (source.landmarks - origin) * scale + offset
        return Placement(walker, box.astype(np.float32), landmarks.astype(np.float32),
                         float(source.inter_ocular * scale)), (left, top), out

    def render(self, frame: int) -> tuple[np.ndarray, list[Placement]]:
        """The camera frame (after JPEG) and where each passer-by's face is in it."""
        config = self.config
        width, height = config.frame_size
        image = self.background.frame(self.scene_index * config.frames + frame, (width, height))
        placements = []
        for walker in range(len(self.sources)):
            placement, (left, top), out = self._place(walker, frame)
            placements.append(placement)
            patch = self._patches[walker][0]
            small = cv2.resize(patch, (out, out), interpolation=cv2.INTER_AREA if out < patch.shape[0] else cv2.INTER_LINEAR)
            draw = self._draws[walker]
            if draw.blur_sigma > 0:
                small = cv2.GaussianBlur(small, (0, 0), draw.blur_sigma)
            # Apparent motion grows as the face comes closer.
            kernel = _motion_kernel(draw.motion_px * placement.inter_ocular / config.inter_ocular[1], draw.motion_angle)
            if kernel is not None:
                small = cv2.filter2D(small, -1, kernel)
            mask = head_mask(out, placement.landmarks - np.array([left, top]), config)[..., None]
            x1, y1, x2, y2 = max(left, 0), max(top, 0), min(left + out, width), min(top + out, height)
            if x2 <= x1 or y2 <= y1:
                continue
            region = image[y1:y2, x1:x2].astype(np.float32)
            piece = small[y1 - top : y2 - top, x1 - left : x2 - left].astype(np.float32)
            alpha = mask[y1 - top : y2 - top, x1 - left : x2 - left]
            image[y1:y2, x1:x2] = np.clip(region * (1 - alpha) + piece * alpha + 0.5, 0, 255).astype(np.uint8)
        lowest, highest = config.jpeg_quality
        quality = int(_rng(self.seed, "jpeg", self.scene_index, frame).integers(lowest, highest + 1))
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return cv2.imdecode(encoded, cv2.IMREAD_COLOR), placements
