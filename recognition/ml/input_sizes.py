"""The one place that decides the detector's input size: for live frames by device, for reference photos by
their size. No Django imports (the setting is passed in)."""

from __future__ import annotations

import numpy as np

# Detector input for live frames, (width, height), multiples of 32. A 1080p frame letterboxed into 640x640
# spends 44% of the input on padding and shrinks faces 3x. Measured on the 1080p street video (2-core CPU,
# bench/results/pipeline.md): recall of faces with eyes >= 12 px apart (what QualityPolicy.live() embeds)
# 0.951 at 640x384, 0.956 at 640x640, 0.964 at 960x544, 0.963 at 1280x736; 20-30 px faces 0.972 / 0.972 /
# 0.991 / 0.986; detector time ~9 / 14 / 17 / 31 ms per frame. 960x544 finds the most for about what the
# 640x640 letterbox costs, and on a GPU the detector is a small part of the cost anyway. On a CPU-only worker
# 640x384 halves the detector time (the pipeline then runs ~4.9x a naive per-frame loop instead of ~3.6x)
# for ~1.3 points of recall. For 4:3 cameras use (960, 736): the detector letterboxes whatever it is given.
DEFAULT_LIVE_DET_SIZE = (960, 544)
CPU_LIVE_DET_SIZE = (640, 384)

# Small reference photos (LFW-sized, passport crops) are detected on a 320x320 canvas instead of the engine's
# 640x640: same faces found (docs/evaluation.md, "Detector input size"), a quarter of the work.
SMALL_PHOTO_MAX_SIDE = 400
SMALL_PHOTO_DET_SIZE = (320, 320)


def engine_on_gpu(engine) -> bool:
    backend = engine.detector.backend
    return any("CUDA" in p for p in backend.providers) or getattr(backend, "device", "cpu") == "cuda"


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` as (width, height)."""
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def live_det_size(configured: str = "auto", *, on_gpu: bool) -> tuple[int, int]:
    """The live detector input: ``configured`` (``WxH``) unless ``auto``, then 960x544 on a GPU, 640x384 on a
    CPU (see above)."""
    if configured != "auto":
        return parse_size(configured)
    return DEFAULT_LIVE_DET_SIZE if on_gpu else CPU_LIVE_DET_SIZE


def reference_det_size(image: np.ndarray) -> tuple[int, int] | None:
    """The detector input for a reference photo: a small canvas for a small photo, else the engine's own (None)."""
    return SMALL_PHOTO_DET_SIZE if max(image.shape[:2]) <= SMALL_PHOTO_MAX_SIDE else None
