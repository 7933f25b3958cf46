"""Demo and test footage when ../shared/data is absent: a face from a packaged photo walking across a scene."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def walking_face_video(*, face: np.ndarray, path: Path, seconds: float = 6.0, fps: int = 15,
                       size: tuple[int, int] = (960, 540), face_height: int = 150,
                       travel: float = 0.5) -> Path:
    """Write an MP4 of `face` (BGR crop) walking across `travel` of the width of a textured background,
    growing as it approaches (about walking pace for a camera a few metres away)."""
    width, height = size
    rng = np.random.default_rng(11)
    background = cv2.GaussianBlur(rng.integers(60, 200, (height, width, 3), dtype=np.uint8), (0, 0), 9)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video to {path}")
    frames = int(seconds * fps)
    for index in range(frames):
        progress = index / max(frames - 1, 1)
        scale = (0.7 + 0.5 * progress) * face_height / face.shape[0]
        sprite = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        frame = background.copy()
        x = int(40 + progress * travel * (width - sprite.shape[1] - 80))
        y = int(height * 0.45 - sprite.shape[0] / 2)
        h, w = min(sprite.shape[0], height - y), min(sprite.shape[1], width - x)
        frame[y:y + h, x:x + w] = sprite[:h, :w]
        writer.write(frame)
    writer.release()
    return path
