"""Which option helps? Flip averaging and references per subject compared on identical probes, over seeds.

    python -m recognition.evaluation.ablation --dataset ../shared/data/faces/lfw-dev --label-fixes lfw-dev

``run_evaluation`` changes the probe set when N (references per subject) changes, since only
identities with more than N images can give mated probes. Here each seed's split is made once with
N=2 and searched against a gallery holding the first reference only and against one holding both, so
the probes are the same; flip on/off is compared on the N=1 split. Embeddings come from (and go to)
the same cache as the evaluation command, so after one run of each flip setting this takes seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from recognition.ml.engine import EngineConfig

from . import label_fixes, metrics
from .cache import EmbeddingCache
from .core import _gallery, _search, make_engine
from .dataset import list_dataset
from .embedding import embed_files, hash_files, variant_key
from .protocol import build_split, split_identities

COLUMNS = ("rank1", "tpir@fpir1e-2", "tpir@fpir1e-3", "tpir@0.40", "tpir@0.45", "fpir@0.40", "fpir@0.45")


def _measure(split, records) -> list[float]:
    matcher, rows, _ = _gallery(split, records)
    mated = _search(matcher, rows, split.mated, records, None)
    nonmated = _search(matcher, rows, split.nonmated, records, None)
    s = metrics.summarise(mated.scores, mated.correct, nonmated.scores)
    return [s["rank1"], s["tpir_at_fpir"]["1e-2"]["tpir"], s["tpir_at_fpir"]["1e-3"]["tpir"],
            s["at_threshold"]["0.40"]["tpir"], s["at_threshold"]["0.45"]["tpir"],
            s["at_threshold"]["0.40"]["fpir"], s["at_threshold"]["0.45"]["fpir"]]


def compare(dataset: Path, *, engine_config: EngineConfig, cache_dir: Path | None, seeds=range(5), gallery_size: int = 2500,
            fixes: str | None = None, progress=print) -> dict:
    found = list_dataset(dataset)
    files = {f.relative_path: f for images in found.values() for f in images}
    images = {identity: [f.relative_path for f in v] for identity, v in found.items()}
    if fixes:
        images, _ = label_fixes.apply(images, label_fixes.load(fixes))
    shas = hash_files([files[i] for items in images.values() for i in items])
    records = {}
    for flip in (False, True):
        engine = make_engine(engine_config, flip=flip)
        cache = EmbeddingCache.for_model(cache_dir, engine.model_id) if cache_dir else None
        try:
            by_sha = embed_files(engine, [files[i] for i in shas], shas, cache=cache, variant=variant_key(engine),
                                 progress=progress, label=f"clean flip={flip}")
        finally:
            if cache is not None:
                cache.close()
        records[flip] = {item: by_sha[sha] for item, sha in shas.items()}
    counts = {i: len(v) for i, v in images.items()}
    rows: dict[str, list[list[float]]] = {}
    for seed in seeds:
        one = split_identities(counts, gallery_size=gallery_size, references_per_subject=1, seed=seed)
        split1 = build_split(images, one, references_per_subject=1, seed=seed)
        rows.setdefault("N=1, no flip", []).append(_measure(split1, records[False]))
        rows.setdefault("N=1, flip", []).append(_measure(split1, records[True]))
        two = split_identities(counts, gallery_size=gallery_size, references_per_subject=2, seed=seed)
        split2 = build_split(images, two, references_per_subject=2, seed=seed)
        first_only = dataclasses.replace(split2, references={i: r[:1] for i, r in split2.references.items()})
        rows.setdefault("N=2 probes, 1 reference, no flip", []).append(_measure(first_only, records[False]))
        rows.setdefault("N=2 probes, 2 references, no flip", []).append(_measure(split2, records[False]))
        rows.setdefault("N=2 probes, 2 references, flip", []).append(_measure(split2, records[True]))
    table = {name: {column: {"mean": float(np.mean(values)), "sd": float(np.std(values))}
                    for column, values in zip(COLUMNS, np.array(runs).T, strict=True)} for name, runs in rows.items()}
    return {"dataset": str(dataset), "label_fixes": fixes, "gallery_size": gallery_size, "seeds": list(seeds),
            "model": make_engine(engine_config, flip=False).model_id, "det_size": list(engine_config.det_size),
            "results": table}


def markdown(result: dict) -> str:
    out = [f"# Option comparison on {Path(result['dataset']).name} (gallery {result['gallery_size']}, seeds "
           f"{result['seeds'][0]}-{result['seeds'][-1]}, label fixes: {result['label_fixes'] or 'none'})", "",
           "Mean ± standard deviation over seeds; see recognition/evaluation/ablation.py for the design.", "",
           "| variant | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for name, columns in result["results"].items():
        out.append(f"| {name} | " + " | ".join(f"{v['mean']:.4f} ± {v['sd']:.4f}" for v in columns.values()) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--label-fixes", default=None)
    parser.add_argument("--gallery-size", type=int, default=2500)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--det-size", default="320x320")
    parser.add_argument("--cache-dir", default="var/cache/embeddings")
    parser.add_argument("--out", default=None, help="folder for ablation.json and ablation.md")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.det_size.split("x"))
    result = compare(Path(args.dataset), engine_config=EngineConfig(det_size=(width, height)), cache_dir=Path(args.cache_dir),
                     seeds=range(args.seeds), gallery_size=args.gallery_size, fixes=args.label_fixes)
    text = markdown(result)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "ablation.json").write_text(json.dumps(result, indent=2) + "\n")
        (out / "ablation.md").write_text(text)


if __name__ == "__main__":
    main()
