"""Face sets laid out as ``<root>/<identity>/<image>``: listing and content hashing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class ImageFile:
    identity: str
    relative_path: str  # "<identity>/<file>", the name used in every report
    path: Path


def list_dataset(root: str | Path) -> dict[str, tuple[ImageFile, ...]]:
    """Identity -> its images (sorted by name); identities with no image are left out."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    dataset: dict[str, tuple[ImageFile, ...]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = tuple(
            ImageFile(folder.name, f"{folder.name}/{p.name}", p)
            for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
        )
        if images:
            dataset[folder.name] = images
    if not dataset:
        raise ValueError(f"no <identity>/<image> files found under {root}")
    return dataset


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
