"""Batched, cached face records for image files, through FaceEngine (one labelled face per image)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace

import cv2
import numpy as np

from recognition.ml.engine import Face, FaceEngine, SingleFaceOutcome, SingleFaceResult
from recognition.ml.images import ImageError, decode_image

from .cache import NO_FACE, UNREADABLE, EmbeddingCache, FaceRecord
from .dataset import ImageFile, sha256_bytes

logger = logging.getLogger(__name__)

# (sha256, decoded BGR image) -> (image to embed, what was done to it)
Transform = Callable[[str, np.ndarray], tuple[np.ndarray, dict | None]]
Progress = Callable[[str], None]


FACE_SELECTIONS = ("central", "largest")


def variant_key(engine: FaceEngine, *, degrade: str = "none", selection: str = "central") -> str:
    """Everything besides the image bytes that shapes a face record (see cache.py)."""
    config = engine.config
    width, height = config.det_size
    return (f"pack={engine.pack.pack_id}|backend={config.backend}|det={width}x{height}@{config.det_threshold:g}"
            f"/nms{config.nms_threshold:g}|flip={int(bool(config.flip))}|select={selection}|degrade={degrade}")


def hash_files(files: Sequence[ImageFile]) -> dict[str, str]:
    """relative_path -> sha256 of the file's bytes."""
    return {f.relative_path: sha256_bytes(f.path.read_bytes()) for f in files}


def face_record(result: SingleFaceResult, degrade: dict | None = None, *, geometry: bool = False) -> FaceRecord:
    """``geometry`` also keeps the face's box and 5 landmarks (in the quality dict), for placing the face
    in a synthetic scene (recognition/evaluation/walkby.py)."""
    if result.face is None:
        return FaceRecord(NO_FACE, 0, None, None, degrade)
    quality = asdict(result.face.quality)
    quality["score"] = result.face.quality.score
    quality = {k: round(float(v), 4) for k, v in quality.items()}
    if geometry:
        quality["box"] = [round(float(v), 2) for v in result.face.box[:4]]
        quality["landmarks"] = [round(float(v), 2) for v in np.asarray(result.face.landmarks).reshape(-1)]
    outcome = SingleFaceOutcome(result.outcome).value
    return FaceRecord(outcome, result.face_count, np.asarray(result.embedding, np.float32), quality, degrade)


def _central(faces: list[Face], frame: np.ndarray) -> Face:
    centre = np.array([frame.shape[1] / 2, frame.shape[0] / 2])
    return min(faces, key=lambda f: float(np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre)))


def _tight_crop_faces(engine: FaceEngine, frame: np.ndarray) -> list[Face]:
    """As FaceEngine.embed_single_faces retries: a face filling the whole image is found once padded."""
    pad = max(frame.shape[:2]) // 2
    padded = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    return [replace(f, box=f.box - pad, landmarks=f.landmarks - pad) for f in engine.analyse([padded], embed=False)[0]]


def single_faces(engine: FaceEngine, frames: Sequence[np.ndarray], *, selection: str = "central") -> list[SingleFaceResult]:
    """One face per image, as the dataset labels it.

    ``largest`` is FaceEngine.embed_single_faces (the enrolment rule). ``central`` takes the face
    nearest the image centre instead: LFW-style sets are crops centred on the labelled person, and
    the largest face there is often someone else (Elena_de_Chavez_0001's largest face is Hugo Chavez).
    Both run the same detector, aligner and embedder in batches.
    """
    if selection == "largest":
        return engine.embed_single_faces(frames)
    if selection != "central":
        raise ValueError(f"face selection must be one of {FACE_SELECTIONS}")
    chosen: list[tuple[Face | None, int]] = []
    for frame, faces in zip(frames, engine.analyse(frames, embed=False), strict=True):
        faces = faces or _tight_crop_faces(engine, frame)
        chosen.append((_central(faces, frame) if faces else None, len(faces)))
    crops = [face.aligned_crop for face, _ in chosen if face is not None]
    vectors = iter(engine.embedder.embed(np.stack(crops)).vectors if crops else [])
    results = []
    for face, count in chosen:
        if face is None:
            results.append(SingleFaceResult(SingleFaceOutcome.NO_FACE, None, 0, engine.model_id))
            continue
        outcome = SingleFaceOutcome.ONE_FACE if count == 1 else SingleFaceOutcome.SEVERAL_FACES
        results.append(SingleFaceResult(outcome, replace(face, embedding=next(vectors)), count, engine.model_id))
    return results


def embed_files(
    engine: FaceEngine, files: Sequence[ImageFile], shas: dict[str, str], *, cache: EmbeddingCache | None,
    variant: str, transform: Transform | None = None, batch_size: int = 64, progress: Progress | None = None,
    label: str = "images", selection: str = "central", geometry: bool = False,
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
        results = single_faces(engine, [image for _, image in images], selection=selection) if images else []
        for (sha, _), result, details in zip(images, results, applied, strict=True):
            fresh[sha] = face_record(result, details, geometry=geometry)
        if cache is not None:
            cache.put_many(variant, fresh)
        records.update(fresh)
        done += len(chunk)
        now = time.perf_counter()
        if progress and (now - last_report >= 15 or done == len(todo)):
            last_report = now
            progress(f"{label}: embedded {done}/{len(todo)} ({done / max(now - started, 1e-9):.1f} images/s)")
    return records
