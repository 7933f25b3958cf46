"""One open-set watchlist evaluation: split, embed (cached), search, measure. No Django."""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from recognition.ml.engine import EngineConfig, FaceEngine
from recognition.ml.matcher import WatchlistMatcher
from recognition.ml.quality import FaceQuality, QualityPolicy

from . import calibration, metrics
from .cache import EmbeddingCache, FaceRecord
from .dataset import labelled_dataset, load_passerby_set
from .degrade import CctvProfile, degrade_image, draw_params
from .embedding import FACE_SELECTIONS, Progress, embed_files, hash_files, variant_key
from .groups import false_alerts_by_group
from .protocol import Probe, Split, build_split, split_identities

DEGRADE_CHOICES = ("none", "cctv")
REFERENCE_CHOICES = ("random", "best-quality")
PROBE_POLICIES = {"none": None, "live": QualityPolicy.live, "enrolment": QualityPolicy}


@dataclass(frozen=True)
class EvaluationOptions:
    dataset: Path
    gallery_size: int = 2500
    references_per_subject: int = 1
    degrade: str = "none"
    cctv_profile: CctvProfile = field(default_factory=CctvProfile)
    flip: bool = False
    seed: int = 0
    holdout_fraction: float = 0.5
    reference_choice: str = "random"
    probe_policy: str = "none"  # probes whose face fails this quality policy are not searched
    max_probes_per_identity: int | None = None
    limit_nonmated: int | None = None
    operating_threshold: float = 0.45
    fixed_thresholds: Sequence[float] = metrics.DEFAULT_FIXED_THRESHOLDS
    fpir_targets: Sequence[float] = metrics.DEFAULT_FPIR_TARGETS
    batch_size: int = 64
    cache_dir: Path | None = None  # None: no cache
    top_n: int = 10
    face_selection: str = "central"  # which face of a several-face image is the labelled person
    label_fixes: str | Path | None = None  # a label_fixes file (path or bundled name such as "lfw-dev")
    # More non-mated probes: <identity>/<image> sets, or flat sets with a labels.csv (utkface-dev), whose
    # false alerts are also reported per group.
    nonmated_sets: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.degrade not in DEGRADE_CHOICES:
            raise ValueError(f"degrade must be one of {DEGRADE_CHOICES}")
        if self.reference_choice not in REFERENCE_CHOICES:
            raise ValueError(f"reference_choice must be one of {REFERENCE_CHOICES}")
        if self.face_selection not in FACE_SELECTIONS:
            raise ValueError(f"face_selection must be one of {FACE_SELECTIONS}")
        if self.probe_policy not in PROBE_POLICIES:
            raise ValueError(f"probe_policy must be one of {tuple(PROBE_POLICIES)}")


@dataclass
class SearchResults:
    """One row per probe; score -inf where the probe was not searched (no face, refused by policy)."""

    items: list[str]
    identities: list[str]
    top_identity: list[str | None]
    top_reference: list[str | None]
    scores: np.ndarray
    status: list[str]  # "searched", "no_face", "unreadable", "refused_by_quality"

    @property
    def correct(self) -> np.ndarray:
        return np.array([t == i for t, i in zip(self.top_identity, self.identities, strict=True)], dtype=bool)


def make_engine(config: EngineConfig, *, flip: bool) -> FaceEngine:
    return FaceEngine(config=replace(config, flip=flip))


def run_evaluation(options: EvaluationOptions, *, engine: FaceEngine | None = None,
                   engine_config: EngineConfig | None = None, progress: Progress | None = None) -> dict:
    """Evaluate and return the report dict (see docs/evaluation.md); ``engine`` must match ``options.flip``."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    if engine is None:
        engine = make_engine(engine_config or EngineConfig(), flip=options.flip)
    elif bool(engine.config.flip) != bool(options.flip):
        raise ValueError("the engine's flip setting differs from options.flip")
    files, images, fixes_summary = labelled_dataset(options.dataset, options.label_fixes)
    label_of = {item: identity for identity, items in images.items() for item in items}
    identities = split_identities({i: len(v) for i, v in images.items()}, gallery_size=options.gallery_size,
                                  references_per_subject=options.references_per_subject, seed=options.seed,
                                  holdout_fraction=options.holdout_fraction)
    cache = EmbeddingCache.for_model(options.cache_dir, engine.model_id) if options.cache_dir else None
    try:
        # Clean records for the references and probes (the cctv degradation also scales from the clean
        # eye distance). Choosing references by quality needs every gallery identity's images first.
        say(f"dataset {options.dataset}: {len(images)} identities, {len(files)} images")
        embed_started = time.perf_counter()
        clean_by_item: dict[str, FaceRecord] = {}
        shas: dict[str, str] = {}

        def embed_clean(items) -> None:
            todo = sorted(set(items) - set(clean_by_item))
            shas.update(hash_files([files[i] for i in todo]))
            records = embed_files(engine, [files[i] for i in todo], shas, cache=cache,
                                  variant=variant_key(engine, selection=options.face_selection),
                                  batch_size=options.batch_size, progress=say, label="clean",
                                  selection=options.face_selection)
            clean_by_item.update({i: records[shas[i]] for i in todo})

        rank = None
        groups_of: dict[str, dict | None] = {}
        if options.reference_choice == "best-quality":
            embed_clean(item for identity in identities.gallery for item in images[identity])

            def rank(item: str) -> float:
                quality = clean_by_item[item].quality
                return -1.0 if quality is None else float(quality["score"])
        split = build_split(images, identities, references_per_subject=options.references_per_subject,
                            seed=options.seed, reference_rank=rank,
                            max_probes_per_identity=options.max_probes_per_identity,
                            limit_nonmated=None if options.nonmated_sets else options.limit_nonmated)
        split = _add_nonmated_sets(split, options, files, label_of, groups_of)
        embed_clean([i for refs in split.references.values() for i in refs] + [p.item for p in split.mated + split.nonmated])
        probes_by_item = clean_by_item
        if options.degrade == "cctv":
            probes_by_item = _degraded_probes(engine, split, files, shas, clean_by_item, options, cache, say)
        embed_seconds = time.perf_counter() - embed_started
        cache_stats = {"path": str(cache.path), "hits": cache.hits, "misses": cache.misses} if cache else None
    finally:
        if cache is not None:
            cache.close()

    search_started = time.perf_counter()
    matcher, gallery_rows, gallery_missing = _gallery(split, clean_by_item)
    policy_factory = PROBE_POLICIES[options.probe_policy]
    policy = policy_factory() if policy_factory else None
    mated = _search(matcher, gallery_rows, split.mated, probes_by_item, policy)
    nonmated = _search(matcher, gallery_rows, split.nonmated, probes_by_item, policy)
    search_seconds = time.perf_counter() - search_started

    summary = metrics.summarise(mated.scores, mated.correct, nonmated.scores, fixed_thresholds=options.fixed_thresholds,
                                fpir_targets=options.fpir_targets)
    operating = metrics.operating_point(mated.scores, mated.correct, nonmated.scores, options.operating_threshold)
    curve = metrics.det_curve(mated.scores, mated.correct, nonmated.scores)
    report = {
        "model": engine.model_id,
        "detector": engine.pack.detector.model_id,
        "pack": engine.pack.pack_id,
        "backend": engine.config.backend,
        "providers": list(engine.detector.backend.providers),
        "det_size": list(engine.config.det_size),
        "dataset": Path(options.dataset).name,
        "dataset_path": str(options.dataset),
        "degrade": options.degrade,
        "degrade_profile": options.cctv_profile.as_dict() | {"key": options.cctv_profile.key(options.seed)}
        if options.degrade == "cctv" else None,
        "flip": options.flip,
        "references_per_subject": options.references_per_subject,
        "reference_choice": options.reference_choice,
        "probe_policy": options.probe_policy,
        "seed": options.seed,
        "holdout_fraction": options.holdout_fraction,
        "max_probes_per_identity": options.max_probes_per_identity,
        "limit_nonmated": options.limit_nonmated,
        "dataset_identities": len(images),
        "dataset_images": sum(len(items) for items in images.values()),
        "label_fixes": fixes_summary,
        "gallery": split.gallery_size,
        "gallery_images": sum(len(r) for r in split.references.values()),
        "mated_probes": len(split.mated),
        "nonmated_probes": len(split.nonmated),
        "protocol": split.summary(),
        "no_face": _no_face(gallery_missing, mated, nonmated),
        "probes_refused_by_quality": {"mated": mated.status.count("refused_by_quality"),
                                      "nonmated": nonmated.status.count("refused_by_quality")},
        "face_selection": options.face_selection,
        "several_faces": _several_faces(split, clean_by_item, probes_by_item, options),
        **summary,
        "operating_threshold": operating.as_dict(),
        "calibration_curve": calibration.calibration_curve(mated.scores, mated.correct, nonmated.scores),
        "nonmated_sets": [str(p) for p in options.nonmated_sets],
        "nonmated_by_set": _count_sets(split, options),
        "groups": false_alerts_by_group([s >= options.operating_threshold for s in nonmated.scores],
                                        [groups_of.get(item) for item in nonmated.items]),
        "top_nonmated": _top_nonmated(nonmated, options.top_n),
        "rank1_errors": _rank1_errors(mated, options.top_n),
        "label_noise_candidates": _label_noise_candidates(split, clean_by_item, label_of, options.top_n),
        "probe_inter_ocular_px": _distribution([probes_by_item[p.item].quality["inter_ocular_px"]
                                                for p in split.mated + split.nonmated if probes_by_item[p.item].quality]),
        "cache": cache_stats,
        "timing_s": {"embedding": round(embed_seconds, 2), "search": round(search_seconds, 3),
                     "total": round(time.perf_counter() - started, 2)},
        "host": {"node": platform.node(), "machine": platform.machine(), "python": platform.python_version()},
    }
    report["_det_curve"] = curve  # for the plot; dropped from the JSON
    return report


def _add_nonmated_sets(split: Split, options: EvaluationOptions, files: dict, label_of: dict, groups_of: dict) -> Split:
    """The split's non-mated probes plus every photo of ``options.nonmated_sets`` (then ``limit_nonmated``)."""
    if not options.nonmated_sets:
        return split
    extra = [p for root in options.nonmated_sets for p in load_passerby_set(Path(root))]
    for passerby in extra:
        files[passerby.key] = passerby.file
        label_of[passerby.key] = passerby.identity
        groups_of[passerby.key] = passerby.groups
    nonmated = list(split.nonmated) + [Probe(p.key, p.identity) for p in extra]
    if options.limit_nonmated is not None and options.limit_nonmated < len(nonmated):
        chosen = np.sort(np.random.default_rng([int(options.seed), 4]).choice(len(nonmated), size=options.limit_nonmated,
                                                                               replace=False))
        nonmated = [nonmated[i] for i in chosen]
    return replace(split, nonmated=tuple(nonmated))


def _count_sets(split: Split, options: EvaluationOptions) -> dict:
    names = [Path(root).name for root in options.nonmated_sets]
    counts = {"dataset": 0} | dict.fromkeys(names, 0)
    for probe in split.nonmated:
        prefix = probe.item.split("/", 1)[0]
        counts[prefix if prefix in names and probe.identity.startswith(prefix) else "dataset"] += 1
    return counts


def _degraded_probes(engine, split: Split, files, shas, clean_by_item, options, cache, say) -> dict[str, FaceRecord]:
    profile, seed = options.cctv_profile, options.seed
    probe_items = sorted({p.item for p in split.mated + split.nonmated})
    io_by_sha = {}
    for item in probe_items:
        quality = clean_by_item[item].quality
        io_by_sha[shas[item]] = None if quality is None else quality["inter_ocular_px"]

    def transform(sha: str, image: np.ndarray):
        return degrade_image(image, inter_ocular_px=io_by_sha[sha], params=draw_params(profile, seed=seed, image_key=sha),
                             upscale=profile.upscale)

    degraded = embed_files(engine, [files[i] for i in probe_items], shas, cache=cache,
                           variant=variant_key(engine, degrade=profile.key(seed), selection=options.face_selection),
                           transform=transform, batch_size=options.batch_size, progress=say, label="cctv probes",
                           selection=options.face_selection)
    return {item: degraded[shas[item]] for item in probe_items}


def _gallery(split: Split, records: dict[str, FaceRecord]):
    vectors, subject_ids, rows, missing = [], [], [], []
    for identity, references in split.references.items():
        for item in references:
            record = records[item]
            if record.has_face:
                vectors.append(record.embedding)
                subject_ids.append(identity)
                rows.append(item)
            else:
                missing.append({"item": item, "identity": identity, "outcome": record.outcome, "error": record.error})
    if not vectors:
        raise ValueError("no reference image of the gallery has a detectable face")
    return WatchlistMatcher(references=np.stack(vectors), subject_ids=subject_ids), rows, missing


def _search(matcher: WatchlistMatcher, gallery_rows: list[str], probes, records: dict[str, FaceRecord],
            policy: QualityPolicy | None) -> SearchResults:
    status, searchable = [], []
    for index, probe in enumerate(probes):
        record = records[probe.item]
        if not record.has_face:
            status.append(record.outcome)
        elif policy is not None and not policy.accepts(_quality(record.quality)):
            status.append("refused_by_quality")
        else:
            status.append("searched")
            searchable.append(index)
    scores = np.full(len(probes), -np.inf)
    top_identity: list[str | None] = [None] * len(probes)
    top_reference: list[str | None] = [None] * len(probes)
    for start in range(0, len(searchable), 4096):
        chunk = searchable[start : start + 4096]
        matches = matcher.top_k(np.stack([records[probes[i].item].embedding for i in chunk]), k=1)
        for index, best in zip(chunk, matches, strict=True):
            scores[index] = best[0].score
            top_identity[index] = best[0].subject_id
            top_reference[index] = gallery_rows[best[0].reference_index]
    return SearchResults([p.item for p in probes], [p.identity for p in probes], top_identity, top_reference, scores, status)


def _quality(values: dict) -> FaceQuality:
    return FaceQuality(**{k: v for k, v in values.items() if k in FaceQuality.__dataclass_fields__})


def _no_face(gallery_missing: list[dict], mated: SearchResults, nonmated: SearchResults) -> dict:
    def listed(results: SearchResults) -> list[dict]:
        return [{"item": item, "identity": identity, "outcome": state}
                for item, identity, state in zip(results.items, results.identities, results.status, strict=True)
                if state in ("no_face", "unreadable")]

    mated_list, nonmated_list = listed(mated), listed(nonmated)
    return {
        "count": {"gallery": len(gallery_missing), "mated": len(mated_list), "nonmated": len(nonmated_list)},
        "gallery": gallery_missing, "mated": mated_list, "nonmated": nonmated_list,
    }


def _several_faces(split: Split, clean: dict[str, FaceRecord], probes: dict[str, FaceRecord], options) -> dict:
    references = [item for refs in split.references.values() for item in refs]
    return {
        "gallery": sum(clean[i].outcome == "several_faces" for i in references),
        "mated": sum(probes[p.item].outcome == "several_faces" for p in split.mated),
        "nonmated": sum(probes[p.item].outcome == "several_faces" for p in split.nonmated),
        "rule": f"the {options.face_selection} face is used",
    }


def _top_nonmated(results: SearchResults, top_n: int) -> list[dict]:
    order = np.argsort(-results.scores, kind="stable")[:top_n]
    return [{"score": round(float(results.scores[i]), 4), "probe": results.items[i], "probe_identity": results.identities[i],
             "gallery_identity": results.top_identity[i], "gallery_reference": results.top_reference[i]}
            for i in order if math.isfinite(results.scores[i])]


def _rank1_errors(results: SearchResults, top_n: int) -> list[dict]:
    wrong = [i for i, ok in enumerate(results.correct) if not ok and math.isfinite(results.scores[i])]
    wrong.sort(key=lambda i: -results.scores[i])
    return [{"score": round(float(results.scores[i]), 4), "probe": results.items[i], "true_identity": results.identities[i],
             "top_identity": results.top_identity[i], "top_reference": results.top_reference[i]} for i in wrong[:top_n]]


def _label_noise_candidates(split: Split, clean: dict[str, FaceRecord], label_of: dict[str, str], top_n: int) -> list[dict]:
    """Most similar pairs of clean images labelled as different people, over every image of the split:
    twins, look-alikes and mislabelled images, whichever side of the split they fell on."""
    items = sorted({i for refs in split.references.values() for i in refs} | {p.item for p in split.mated + split.nonmated})
    items = [i for i in items if clean[i].has_face]
    if len(items) < 2:
        return []
    vectors = np.stack([clean[i].embedding for i in items]).astype(np.float32)
    labels = np.array([label_of[i] for i in items])
    codes = np.unique(labels, return_inverse=True)[1]
    best_score, best_index = np.empty(len(items), np.float32), np.empty(len(items), np.int64)
    for start in range(0, len(items), 1024):
        block = vectors[start : start + 1024] @ vectors.T
        block[codes[start : start + 1024, None] == codes[None, :]] = -np.inf
        best_index[start : start + 1024] = block.argmax(axis=1)
        best_score[start : start + 1024] = block.max(axis=1)
    seen, pairs = set(), []
    for i in np.argsort(-best_score, kind="stable"):
        j = int(best_index[i])
        key = (min(i, j), max(i, j))
        if key in seen:
            continue
        seen.add(key)
        pairs.append({"score": round(float(best_score[i]), 4), "a": items[key[0]], "b": items[key[1]]})
        if len(pairs) == top_n:
            break
    return pairs


def _distribution(values: list[float]) -> dict | None:
    if not values:
        return None
    array = np.asarray(values, dtype=np.float64)
    return {"count": len(array), "min": round(float(array.min()), 1), "p5": round(float(np.percentile(array, 5)), 1),
            "median": round(float(np.median(array)), 1), "p95": round(float(np.percentile(array, 95)), 1),
            "max": round(float(array.max()), 1)}
