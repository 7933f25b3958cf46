"""The face engine of this process, built once from settings (a worker keeps its models loaded)."""

from __future__ import annotations

import functools

from django.conf import settings

from recognition.ml.engine import EngineConfig, FaceEngine
from recognition.ml.models import find_model_pack
from recognition.ml.quality import QualityPolicy


@functools.cache
def face_engine() -> FaceEngine:
    return FaceEngine(config=EngineConfig(
        model_dir=settings.MODEL_DIR or None,
        backend=settings.INFERENCE_BACKEND,
        providers=tuple(settings.INFERENCE_PROVIDERS) or None,
        intra_op_threads=settings.INFERENCE_THREADS or None,
    ))


def enrolment_policy() -> QualityPolicy:
    return QualityPolicy(min_inter_ocular_px=settings.ENROLMENT_MIN_INTER_OCULAR_PX)


@functools.cache
def current_model_id() -> str:
    """The recogniser id the workers embed with, without starting any inference session."""

    return find_model_pack(model_dir=settings.MODEL_DIR or None).recogniser.model_id


def recognition_device() -> str:
    """"cpu" or "cuda": the device the camera workers run on, whose walk-by calibration applies. The web
    process cannot see a GPU host's workers, so it is RECOGNITION_DEVICE; "auto" reads INFERENCE_PROVIDERS
    (the first one named, as the workers try them), and with none named whether this process's onnxruntime
    offers CUDA (a web process on the GPU host; elsewhere set RECOGNITION_DEVICE)."""
    if settings.RECOGNITION_DEVICE in ("cpu", "cuda"):
        return settings.RECOGNITION_DEVICE
    providers = list(settings.INFERENCE_PROVIDERS)
    if providers:
        return "cuda" if "CUDA" in providers[0] else "cpu"
    try:
        import onnxruntime

        available = onnxruntime.get_available_providers()
    except Exception:
        return "cpu"
    return "cuda" if "CUDAExecutionProvider" in available else "cpu"
