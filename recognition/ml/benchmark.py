"""Throughput of the detector and embedder on this host: ``python -m recognition.ml.benchmark``.

Prints JSON; the figures feed bench/ and the worker sizing (frames/s per camera, faces/s).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from .engine import EngineConfig, FaceEngine


def _sample_frame() -> np.ndarray:
    """insightface's group photo when installed (realistic NMS load), else noise."""
    import importlib.util
    from pathlib import Path

    import cv2

    spec = importlib.util.find_spec("insightface")
    if spec and spec.submodule_search_locations:
        image = cv2.imread(str(Path(list(spec.submodule_search_locations)[0]) / "data" / "images" / "t1.jpg"))
        if image is not None:
            return image
    return np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)


def _best_seconds(call, *, repeats: int) -> float:
    call()  # warm-up: first call allocates and optimises
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return min(timings)


def benchmark_detection(engine: FaceEngine, *, batch_size: int, repeats: int = 3) -> dict:
    frames = [_sample_frame()] * batch_size
    seconds = _best_seconds(lambda: engine.detector.detect(frames), repeats=repeats)
    return {"batch": batch_size, "input_size": list(engine.detector.input_size),
            "ms_per_frame": round(1000 * seconds / batch_size, 2), "frames_per_s": round(batch_size / seconds, 1)}


def benchmark_embedding(engine: FaceEngine, *, batch_size: int, repeats: int = 3, flip: bool = False) -> dict:
    size = engine.embedder.spec.input_size
    crops = np.random.default_rng(0).integers(0, 255, (batch_size, size, size, 3), dtype=np.uint8)
    seconds = _best_seconds(lambda: engine.embedder.embed(crops, flip=flip), repeats=repeats)
    return {"batch": batch_size, "flip": flip, "faces_per_s": round(batch_size / seconds, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="onnxruntime")
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (default: all cores)")
    parser.add_argument("--det-size", default="640x640", help="WxH, multiples of 32")
    parser.add_argument("--det-batches", default="1,8")
    parser.add_argument("--embed-batches", default="1,32,128")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.det_size.lower().split("x"))
    engine = FaceEngine(config=EngineConfig(model_dir=args.model_dir, backend=args.backend,
                                            intra_op_threads=args.threads, det_size=(width, height)))
    report = {
        "host": platform.node(), "processor": platform.processor() or platform.machine(),
        "backend": args.backend, "providers": engine.detector.backend.providers, "pack": engine.pack.pack_id,
        "detection": [benchmark_detection(engine, batch_size=int(b), repeats=args.repeats) for b in args.det_batches.split(",")],
        "embedding": [benchmark_embedding(engine, batch_size=int(b), repeats=args.repeats)
                      for b in args.embed_batches.split(",")],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
