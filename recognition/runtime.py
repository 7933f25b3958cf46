"""The face engine of this process, built once from settings (a worker keeps its models loaded)."""

from __future__ import annotations

import functools

from django.conf import settings

from recognition.ml.engine import EngineConfig, FaceEngine
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
    from recognition.ml.models import find_model_pack

    return find_model_pack(model_dir=settings.MODEL_DIR or None).recogniser.model_id
