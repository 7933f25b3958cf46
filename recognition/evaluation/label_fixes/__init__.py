"""Curated corrections of known label errors in evaluation face sets (JSON files beside this module).

A fixes file holds ``merge`` (identities that are one person), ``relabel`` (an image of someone other
than its folder says) and ``exclude`` (images that cannot be trusted, e.g. one photograph filed under
two names), each with a ``why``. Runs without fixes report the raw labels; docs/evaluation.md gives both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent


def resolve(name_or_path: str | Path) -> Path:
    """A bundled fixes file by dataset name ("lfw-dev") or any path."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = BUNDLED / f"{name_or_path}.json"
    if bundled.is_file():
        return bundled
    raise FileNotFoundError(f"no label fixes file {name_or_path} (bundled: {sorted(p.stem for p in BUNDLED.glob('*.json'))})")


def load(name_or_path: str | Path) -> dict:
    path = resolve(name_or_path)
    fixes = json.loads(path.read_text())
    bundled = path.resolve().parent == BUNDLED
    fixes["path"] = f"recognition/evaluation/label_fixes/{path.name}" if bundled else str(path)
    return fixes


def apply(images: Mapping[str, Sequence[str]], fixes: dict) -> tuple[dict[str, list[str]], dict]:
    """identity -> items with the fixes applied (merged identities take the first name), and what changed."""
    label = {item: identity for identity, items in images.items() for item in items}
    excluded = [e["image"] for e in fixes.get("exclude", []) if e["image"] in label]
    for item in excluded:
        del label[item]
    relabelled = 0
    for entry in fixes.get("relabel", []):
        if entry["image"] in label:
            label[entry["image"]] = entry["identity"]
            relabelled += 1
    merged = 0
    for entry in fixes.get("merge", []):
        keep, *others = entry["identities"]
        for item, identity in label.items():
            if identity in others:
                label[item] = keep
                merged += 1
    fixed: dict[str, list[str]] = {}
    for item, identity in label.items():
        fixed.setdefault(identity, []).append(item)
    summary = {"path": fixes.get("path"), "excluded_images": len(excluded), "relabelled_images": relabelled,
               "images_moved_by_merges": merged, "identities_before": len(images), "identities_after": len(fixed)}
    return {identity: sorted(items) for identity, items in sorted(fixed.items())}, summary
