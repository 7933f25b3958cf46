"""The detector input sizes: live frames by device or setting, reference photos by their size."""

from types import SimpleNamespace

import numpy as np
import pytest

from recognition.ml.input_sizes import (
    CPU_LIVE_DET_SIZE,
    DEFAULT_LIVE_DET_SIZE,
    SMALL_PHOTO_DET_SIZE,
    engine_on_gpu,
    live_det_size,
    reference_det_size,
)


def test_live_detector_size_follows_the_device():
    def engine_on(providers, device=None):
        backend = SimpleNamespace(providers=providers, **({"device": device} if device else {}))
        return SimpleNamespace(detector=SimpleNamespace(backend=backend))

    assert live_det_size(on_gpu=engine_on_gpu(engine_on(["CPUExecutionProvider"]))) == CPU_LIVE_DET_SIZE == (640, 384)
    assert live_det_size(on_gpu=engine_on_gpu(engine_on(["CUDAExecutionProvider", "CPUExecutionProvider"]))) \
        == DEFAULT_LIVE_DET_SIZE
    assert live_det_size(on_gpu=engine_on_gpu(engine_on([], device="cuda"))) == (960, 544)


def test_a_configured_live_size_wins_over_the_device():
    assert live_det_size("1280X736", on_gpu=False) == (1280, 736)
    assert live_det_size("auto", on_gpu=True) == (960, 544)
    with pytest.raises(ValueError):
        live_det_size("big", on_gpu=True)


def test_small_reference_photos_get_the_small_canvas():
    assert reference_det_size(np.zeros((400, 300, 3), np.uint8)) == SMALL_PHOTO_DET_SIZE == (320, 320)
    assert reference_det_size(np.zeros((401, 300), np.uint8)) is None
