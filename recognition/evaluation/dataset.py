"""Face sets laid out as ``<root>/<identity>/<image>`` (or flat with a labels.csv): listing and content hashing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from . import label_fixes
from .groups import read_labels

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


@dataclass(frozen=True)
class Passerby:
    """A photo that walks past (evaluate_live) or is searched (evaluate_watchlist) as a passer-by."""

    key: str  # "<set>/<identity>/<file>" or "<set>/<file>": unique in the run
    file: ImageFile
    identity: str  # the gallery identity for mated passers-by; otherwise the set's own label
    mated: bool
    source_set: str
    groups: dict | None = None  # race / sex / age_band for sets with labels.csv


def load_passerby_set(root: Path) -> list[Passerby]:
    """A non-mated set: ``<identity>/<image>``, or flat images with a ``labels.csv`` (UTKFace: file, age,
    gender, race), each image its own person."""
    root = Path(root)
    labels = root / "labels.csv"
    name = root.name
    if labels.is_file():
        people = []
        for file, groups in read_labels(labels).items():
            path = root / file
            if path.is_file():
                key = f"{name}/{file}"
                people.append(Passerby(key, ImageFile(key, key, path), key, False, name, groups))
        return people
    return [Passerby(f"{name}/{f.relative_path}", replace(f, relative_path=f"{name}/{f.relative_path}"),
                     f"{name}:{identity}", False, name)
            for identity, files in list_dataset(root).items() for f in files]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def labelled_dataset(root: str | Path, fixes: str | Path | None = None
                     ) -> tuple[dict[str, ImageFile], dict[str, list[str]], dict | None]:
    """Every image of an `<identity>/<image>` set by relative path, each identity's images (after the named
    label fixes, when given), and the fixes' summary for the report (None without fixes)."""

    dataset = list_dataset(root)
    files = {f.relative_path: f for images in dataset.values() for f in images}
    images = {identity: [f.relative_path for f in found] for identity, found in dataset.items()}
    summary = None
    if fixes:
        images, summary = label_fixes.apply(images, label_fixes.load(fixes))
    return files, images, summary
