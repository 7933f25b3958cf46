"""Batched, cached face records for image files, through FaceEngine.embed_single_faces."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict

import numpy as np

from recognition.ml.engine import FaceEngine, SingleFaceOutcome, SingleFaceResult
from recognition.ml.images import ImageError, decode_image

from .cache import NO_FACE, UNREADABLE, EmbeddingCache, FaceRecord
from .dataset import ImageFile, sha256_bytes

logger = logging.getLogger(__name__)

# (sha256, decoded BGR image) -> (image to embed, what was done to it)
Transform = Callable[[str, np.ndarray], tuple[np.ndarray, dict | None]]
Progress = Callable[[str], None]


def variant_key(engine: FaceEngine, *, degrade: str = "none") -> str:
    """Everything besides the image bytes that shapes a face record (see cache.py)."""
    config = engine.config
    width, height = config.det_size
    return (f"pack={engine.pack.pack_id}|backend={config.backend}|det={width}x{height}@{config.det_threshold:g}"
            f"/nms{config.nms_threshold:g}|flip={int(bool(config.flip))}|degrade={degrade}")


def hash_files(files: Sequence[ImageFile]) -> dict[str, str]:
    """relative_path -> sha256 of the file's bytes."""
    return {f.relative_path: sha256_bytes(f.path.read_bytes()) for f in files}


def face_record(result: SingleFaceResult, degrade: dict | None = None) -> FaceRecord:
    if result.face is None:
        return FaceRecord(NO_FACE, 0, None, None, degrade)
    quality = asdict(result.face.quality)
    quality["score"] = result.face.quality.score
    quality = {k: round(float(v), 4) for k, v in quality.items()}
    outcome = SingleFaceOutcome(result.outcome).value
    return FaceRecord(outcome, result.face_count, np.asarray(result.embedding, np.float32), quality, degrade)


def embed_files(
    engine: FaceEngine, files: Sequence[ImageFile], shas: dict[str, str], *, cache: EmbeddingCache | None,
    variant: str, transform: Transform | None = None, batch_size: int = 64, progress: Progress | None = None,
    label: str = "images",
) -> dict[str, FaceRecord]:
    """sha256 -> FaceRecord for every file (same bytes are embedded once); cached records are reused."""
    by_sha: dict[str, ImageFile] = {}
    for f in files:
        by_sha.setdefault(shas[f.relative_path], f)
    records = cache.get_many(variant, by_sha) if cache is not None else {}
    todo = [sha for sha in by_sha if sha not in records]
    if progress and records:
        progress(f"{label}: {len(records)} of {len(by_sha)} from the cache")
    started, done, last_report = time.perf_counter(), 0, 0.0
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        images, applied, fresh = [], [], {}
        for sha in chunk:
            try:
                image = decode_image(by_sha[sha].path.read_bytes())
            except (ImageError, OSError) as exc:
                fresh[sha] = FaceRecord(UNREADABLE, 0, None, error=str(exc))
                continue
            image, details = transform(sha, image) if transform is not None else (image, None)
            images.append((sha, image))
            applied.append(details)
        results = engine.embed_single_faces([image for _, image in images]) if images else []
        for (sha, _), result, details in zip(images, results, applied):
            fresh[sha] = face_record(result, details)
        if cache is not None:
            cache.put_many(variant, fresh)
        records.update(fresh)
        done += len(chunk)
        now = time.perf_counter()
        if progress and (now - last_report >= 15 or done == len(todo)):
            last_report = now
            progress(f"{label}: embedded {done}/{len(todo)} ({done / max(now - started, 1e-9):.1f} images/s)")
    return records
