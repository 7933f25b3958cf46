"""Walk-by evaluation through the live pipeline (``manage.py evaluate_live``). No Django.

Passers-by (photos of enrolled people, and of people who are not enrolled) walk towards a camera in
synthetic scenes (:mod:`.walkby`); every frame goes through :func:`recognition.batch.process_batch`
with the production :class:`PipelineConfig`, and each alert is attributed to the passer-by whose face
it is. docs/evaluation.md ("Walk-by evaluation") has the protocol and the reasoning.

One run serves every threshold. The pipeline runs at threshold 1.0 (nothing alerts, so every track is
embedded as it would be until its alert) and each track's best match is logged whenever it improves.
The pipeline alerts a track the first time its best score reaches the threshold, and until then what
it embeds does not depend on the threshold, so the first logged entry at or above ``t`` is exactly the
alert the pipeline makes at ``t``; repeat suppression is then replayed per scene in time order, as
``CameraPipeline.is_repeat`` does. tests/recognition/evaluation/test_live.py checks the replay against
a real run at the operating threshold.
"""

from __future__ import annotations

import math
import pickle
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from recognition.batch import CameraPipeline, PipelineConfig, face_context_crop, live_detector, process_batch
from recognition.ml.decision import TrackDecision
from recognition.ml.engine import EngineConfig, FaceEngine
from recognition.ml.images import decode_image
from recognition.ml.input_sizes import engine_on_gpu, live_det_size
from recognition.ml.matcher import WatchlistMatcher
from recognition.ml.tracker import box_iou
from recognition.source_base import Frame

from . import label_fixes, metrics
from .cache import EmbeddingCache, FaceRecord
from .calibration import CALIBRATION_THRESHOLDS
from .dataset import ImageFile, Passerby, labelled_dataset, load_passerby_set
from .embedding import Progress, embed_files, hash_files, variant_key
from .groups import false_alerts_by_group, group_counts, per_1000
from .protocol import build_split, split_identities
from .walkby import Background, SourceFace, SyntheticBackground, WalkByConfig, WalkByScene

# The worker's processed frame rate per device default. A CPU worker at 640x384 keeps up with one 25 fps
# camera (36-45 frames/s measured with decoding, bench/results/pipeline.md), a GPU one at 960x544 too.
DEVICE_DEFAULTS = {"cpu": {"fps": 25.0}, "cuda": {"fps": 25.0}}
INTER_OCULAR_BANDS = (10.0, 16.0, 24.0, 32.0, 48.0, 80.0)
TIME_TO_ALERT_FROM_PX = 24.0
FALSE_ALERT_TARGETS = (1e-3, 1e-4)
ATTRIBUTION_IOU = 0.1


@dataclass(frozen=True)
class LiveOptions:
    dataset: Path  # <identity>/<image>: the gallery, the mated and the first non-mated passers-by
    nonmated_sets: tuple[Path, ...] = ()  # more non-mated passers-by: <identity>/<image>, or flat with labels.csv
    gallery_size: int = 2500
    holdout_fraction: float = 0.5
    label_fixes: str | Path | None = None
    exclusions: str | Path | None = None  # screened-out non-mated photos (label_fixes-style "exclude")
    mated: int | None = None  # random subsample of the mated passers-by
    nonmated: int | None = None  # random subsample of all non-mated passers-by
    seed: int = 0
    walk: WalkByConfig = field(default_factory=WalkByConfig)
    det_size: tuple[int, int] | None = None  # live detector input; None: the device default
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    operating_threshold: float = 0.45
    fixed_thresholds: Sequence[float] = metrics.DEFAULT_FIXED_THRESHOLDS
    false_alert_targets: Sequence[float] = FALSE_ALERT_TARGETS
    bands: Sequence[float] = INTER_OCULAR_BANDS
    screen_threshold: float = 0.40  # clean non-mated faces scoring this against the gallery are screened
    gallery_det_size: tuple[int, int] = (320, 320)
    batch_size: int = 64
    cache_dir: Path | None = None
    top_n: int = 10
    compare_decisions: Sequence[TrackDecision] = ()  # measured beside options.pipeline.decision on the same run
    child_entries: str | Path | None = None  # gallery identities enrolled as children (lfw-dev-children)
    child_offset: float = 0.0  # their threshold is raised by this much (the policy measured)
    compare_child_offsets: Sequence[float] = (0.05, 0.10, 0.15)
    save_recording: Path | None = None
    shard: tuple[int, int] = (1, 1)  # (k, n): run only every n-th scene from the k-th, to run a long protocol in parts


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N), 1 <= K <= N."""
    try:
        k, n = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ValueError(f"a shard is K/N, e.g. 2/5, not {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"shard {text}: K must be between 1 and N")
    return k, n


# ------------------------------------------------------------------------------------------ passers-by

def load_exclusions(name_or_path: str | Path | None) -> dict[str, str]:
    """passer-by key -> why it is excluded, from a label_fixes-style file (bundled name or path)."""
    if not name_or_path:
        return {}
    fixes = label_fixes.load(name_or_path)
    return {entry["image"]: entry["why"] for entry in fixes.get("exclude", [])}


# ------------------------------------------------------------------------------------------ one scene

@dataclass
class WalkerLog:
    passerby: Passerby
    scene: int
    first_detected: int | None = None  # frame of the walk
    first_embedded: int | None = None
    detections: int = 0
    embeddings: int = 0


@dataclass
class Embedded:
    """One embedding of a track, as the pipeline made it (recorded by :class:`Recorder`)."""

    frame: int
    vector: np.ndarray
    quality: float
    matches: list  # the frame's top Recorder.top_k matches
    walker: int | None  # run-wide index of the passer-by, None for a background face
    inter_ocular: float
    crop: np.ndarray | None  # the face as the camera saw it, kept only where it may become a false alert image


@dataclass
class TrackLog:
    scene: int
    track_id: int
    order: int  # creation order within the scene, for same-frame ties
    embedded: list[Embedded] = field(default_factory=list)
    # Filled per decision by with_decision: (frame, subject, score, walker, inter-ocular px, crop) each time
    # the track's evidence reaches a new high.
    history: list[tuple] = field(default_factory=list)


@dataclass
class SceneLog:
    tracks: list[TrackLog]
    alerts: list  # AlertCandidate from the real threshold (empty when recording)
    frames: int
    seconds: float


class Recorder(TrackDecision):
    """Never alerts, so every track is embedded as it would be until its alert; the base class keeps each
    embedding and its top matches on the track, for any decision to be replayed on afterwards."""

    name = "record"
    top_k = 3  # enough for every registered decision (see with_decision)

    def decide(self, states, matcher):
        return [None] * len(states)


def run_scene(scene: WalkByScene, walkers: Sequence[int], logs: Sequence[WalkerLog], *, scene_index: int, engine,
              matcher: WatchlistMatcher, detector, config: PipelineConfig, threshold: float | None = None,
              threshold_offsets: dict | None = None,
              keep_crop: Callable[[int | None, str, float], bool] = lambda walker, subject, score: False) -> SceneLog:
    """Feed the scene's frames through ``process_batch`` as one camera and log what each track does.

    With ``threshold`` None the scene is recorded (:class:`Recorder`) for :func:`with_decision`; with a
    threshold it runs as production does, with ``config.decision``, and ``alerts`` holds what it raised.
    ``walkers[i]`` is the run-wide index of the scene's i-th passer-by (``logs`` is indexed by it).
    """
    recording = threshold is None
    if recording:
        config = replace(config, decision=Recorder())
    cameras: dict = {scene_index: CameraPipeline.create(scene_index, config)}
    tracks: dict[int, TrackLog] = {}
    seen: dict[int, int] = {}  # track id -> embed count last observed
    alerts, started = [], time.perf_counter()
    for frame_index in range(scene.frames):
        image, placements = scene.render(frame_index)
        timestamp = frame_index / scene.config.fps
        result = process_batch(frames=[(scene_index, Frame(image, timestamp, frame_index))], engine=engine,
                               matcher=matcher, threshold=1.0 if recording else threshold, cameras=cameras,
                               policy=config.policy, detector=detector, config=config,
                               threshold_offsets=threshold_offsets)
        alerts.extend(result.alerts)
        active = [t for t in cameras[scene_index].tracker.active if t.last_seen == timestamp]
        if not active:
            continue
        truth = np.stack([p.box for p in placements]).astype(np.float64)
        overlap = box_iou(np.stack([t.box for t in active]).astype(np.float64), truth)
        for track, row in zip(active, overlap, strict=True):
            local = _attribute(track.box, truth, row)
            walker = walkers[local] if local is not None else None
            log = tracks.get(track.track_id)
            if log is None:
                log = tracks[track.track_id] = TrackLog(scene_index, track.track_id, len(tracks))
            io = float(placements[local].inter_ocular) if local is not None else float(
                np.linalg.norm(track.landmarks[1] - track.landmarks[0]))
            embedded = track.embed_count > seen.get(track.track_id, 0)
            seen[track.track_id] = track.embed_count
            if walker is not None:
                walker_log = logs[walker]
                walker_log.detections += 1
                if walker_log.first_detected is None:
                    walker_log.first_detected = frame_index
                if embedded:
                    walker_log.embeddings += 1
                    if walker_log.first_embedded is None:
                        walker_log.first_embedded = frame_index
            if embedded and recording:
                state = track.decision_state
                found = state.matches[-1]
                keep = bool(found) and keep_crop(walker, found[0].subject_id, found[0].score)
                log.embedded.append(Embedded(frame_index, state.vectors[-1], state.qualities[-1], found, walker, io,
                                             face_context_crop(image, track.box) if keep else None))
    cameras[scene_index].close()
    return SceneLog(list(tracks.values()), alerts, scene.frames, time.perf_counter() - started)


def with_decision(scene: SceneLog, decision: TrackDecision, matcher: WatchlistMatcher,
                  threshold_offsets: dict | None = None) -> SceneLog:
    """The recorded scene with each track's evidence history under ``decision``: the pipeline alerts a
    track at threshold ``t`` on the first embedding whose evidence reaches ``t`` (plus the subject's
    ``threshold_offsets``), so the entries where the evidence less that offset reaches a new high are all
    any threshold needs (see the module docstring)."""
    if decision.top_k > Recorder.top_k:
        raise ValueError(f"decision {decision.name} needs {decision.top_k} candidates; the recording keeps {Recorder.top_k}")
    tracks = []
    for log in scene.tracks:
        probe = _ReplayTrack()
        history, best = [], -math.inf
        for entry in log.embedded:
            found = decision.evidence([probe], entry.vector[None], [entry.quality], [entry.matches[: decision.top_k]],
                                      matcher)[0]
            if found is None:
                continue
            score = float(found.score) - (threshold_offsets.get(found.subject_id, 0.0) if threshold_offsets else 0.0)
            if score > best:
                best = score
                crop = entry.crop if entry.crop is not None else _latest_crop(log)
                history.append((entry.frame, found.subject_id, score, entry.walker, entry.inter_ocular, crop))
        tracks.append(replace(log, history=history))
    return replace(scene, tracks=tracks)


@dataclass
class _ReplayTrack:
    decision_state: object | None = None


def _latest_crop(log: TrackLog) -> np.ndarray | None:
    """A kept crop of this track for the top false alert images (the evidence may come from a template)."""
    return next((e.crop for e in reversed(log.embedded) if e.crop is not None), None)


def _attribute(box: np.ndarray, truth: np.ndarray, overlap: np.ndarray) -> int | None:
    """The passer-by whose placed face box holds this detection's centre and overlaps it (a detector's box
    of a small face is drawn differently from the photo's, so overlap alone is too strict)."""
    centre = (box[:2] + box[2:4]) / 2
    inside = (truth[:, 0] <= centre[0]) & (centre[0] <= truth[:, 2]) & (truth[:, 1] <= centre[1]) & (centre[1] <= truth[:, 3])
    candidates = np.flatnonzero(inside & (overlap >= ATTRIBUTION_IOU))
    return int(candidates[np.argmax(overlap[candidates])]) if len(candidates) else None


def replay(scene: SceneLog, threshold: float, *, fps: float, repeat_window_s: float) -> list[dict]:
    """The alerts the pipeline makes on this scene at ``threshold`` (see the module docstring)."""
    candidates = []
    for track in scene.tracks:
        for entry in track.history:
            if entry[2] >= threshold:
                candidates.append((entry[0], track.order, track, entry))
                break
    candidates.sort(key=lambda c: (c[0], c[1]))
    last_alerted: dict = {}
    alerts = []
    for frame, _, track, (_, subject, score, walker, io, crop) in candidates:
        timestamp = frame / fps
        last = last_alerted.get(subject)
        last_alerted[subject] = timestamp
        if repeat_window_s > 0 and last is not None and 0 <= timestamp - last < repeat_window_s:
            continue
        alerts.append({"scene": scene.tracks[0].scene if scene.tracks else None, "track_id": track.track_id,
                       "frame": frame, "subject": subject, "score": score, "walker": walker, "inter_ocular": io,
                       "crop": crop})
    return alerts


# ------------------------------------------------------------------------------------------ the run

def make_engine(config: EngineConfig | None, gallery_det_size: tuple[int, int]) -> FaceEngine:
    """The production engine (no flip averaging, as the workers run) with the gallery's detector size."""
    return FaceEngine(config=replace(config or EngineConfig(), det_size=tuple(gallery_det_size), flip=False))


def _sample(items: list, limit: int | None, seed: int, stage: int) -> list:
    if limit is None or limit >= len(items):
        return items
    chosen = np.sort(np.random.default_rng([int(seed), 100 + stage]).choice(len(items), size=limit, replace=False))
    return [items[i] for i in chosen]


def run_live_evaluation(options: LiveOptions, *, engine: FaceEngine | None = None,
                        engine_config: EngineConfig | None = None, background: Background | None = None,
                        progress: Progress | None = None) -> dict:
    say = progress or (lambda message: None)
    started = time.perf_counter()
    engine = engine or make_engine(engine_config, options.gallery_det_size)
    if engine.config.flip:
        raise ValueError("the live workers do not flip-average: pass an engine with flip off")
    device = "cuda" if engine_on_gpu(engine) else "cpu"
    det_size = tuple(options.det_size or live_det_size(on_gpu=engine_on_gpu(engine)))
    config = replace(options.pipeline, det_size=det_size)
    detector = live_detector(engine, det_size)
    background = background or SyntheticBackground(options.seed)

    files, images, fixes_summary = labelled_dataset(options.dataset, options.label_fixes)
    identities = split_identities({i: len(v) for i, v in images.items()}, gallery_size=options.gallery_size,
                                  seed=options.seed, holdout_fraction=options.holdout_fraction)
    split = build_split(images, identities, seed=options.seed)
    name = Path(options.dataset).name
    mated = [Passerby(f"{name}/{p.item}", files[p.item], p.identity, True, name) for p in split.mated]
    nonmated = [Passerby(f"{name}/{p.item}", files[p.item], f"{name}:{p.identity}", False, name) for p in split.nonmated]
    for extra in options.nonmated_sets:
        nonmated += load_passerby_set(Path(extra))
    exclusions = load_exclusions(options.exclusions)
    excluded = [p for p in nonmated if p.key in exclusions]
    nonmated = [p for p in nonmated if p.key not in exclusions]
    mated = _sample(mated, options.mated, options.seed, 1)
    nonmated = _sample(nonmated, options.nonmated, options.seed, 2)
    say(f"gallery {split.gallery_size}; passers-by: {len(mated)} mated, {len(nonmated)} non-mated "
        f"({len(excluded)} excluded by screening)")

    cache = EmbeddingCache.for_model(options.cache_dir, engine.model_id) if options.cache_dir else None
    try:
        gallery_items = [refs[0] for refs in split.references.values()]
        gallery_records = _records(engine, [files[i] for i in gallery_items], cache, options, say, "gallery")
        walkers_all = mated + nonmated
        walker_records = _records(engine, [p.file for p in walkers_all], cache, options, say, "passers-by", geometry=True,
                                  keys=[p.key for p in walkers_all])
        matcher = _matcher(split, gallery_items, gallery_records)
        reference_of = {identity: refs[0] for identity, refs in split.references.items()}
        screening = _screen(engine, nonmated, walker_records, matcher, images, files, cache, options, say)
    finally:
        if cache is not None:
            cache.close()

    placeable = [p for p in walkers_all if walker_records[p.key].has_face]
    no_face = [p for p in walkers_all if not walker_records[p.key].has_face]
    order = np.random.default_rng([options.seed, 200]).permutation(len(placeable))
    walkers = [placeable[i] for i in order]
    logs = [WalkerLog(p, i // options.walk.lanes) for i, p in enumerate(walkers)]
    scenes: list[SceneLog] = []
    lanes = options.walk.lanes

    def keep_crop(walker, subject, score) -> bool:
        return score >= 0.3 and (walker is None or not walkers[walker].mated or walkers[walker].identity != subject)

    shard_k, shard_n = options.shard
    walked = 0
    render_started = time.perf_counter()
    for scene_index, first in enumerate(range(0, len(walkers), lanes)):
        if scene_index % shard_n != shard_k - 1:
            continue
        members = list(range(first, min(first + lanes, len(walkers))))
        walked += len(members)
        sources = [_source_face(walkers[i], walker_records[walkers[i].key]) for i in members]
        scene = WalkByScene(sources, options.walk, background=background, seed=options.seed, scene_index=scene_index)
        scenes.append(run_scene(scene, members, logs, scene_index=scene_index, engine=engine, matcher=matcher,
                                detector=detector, config=config, keep_crop=keep_crop))
        if len(scenes) % 20 == 0 or first + lanes * shard_n >= len(walkers):
            done = sum(s.frames for s in scenes)
            elapsed = time.perf_counter() - render_started
            say(f"scenes {len(scenes)}/{len(range(shard_k - 1, math.ceil(len(walkers) / lanes), shard_n))}: "
                f"{done} frames, {done / elapsed:.1f} frames/s")
    pipeline_seconds = time.perf_counter() - render_started

    report = {
        "model": engine.model_id, "detector": engine.pack.detector.model_id, "pack": engine.pack.pack_id,
        "pack_dir": str(engine.pack.directory), "backend": engine.config.backend,
        "providers": list(engine.detector.backend.providers), "device": device,
        "det_size": list(det_size), "gallery_det_size": list(options.gallery_det_size), "flip": config.flip,
        "pipeline": {"max_age": config.max_age, "embed_every": config.embed_every, "embed_margin": config.embed_margin,
                     "iou_threshold": config.iou_threshold, "repeat_alert_after_s": config.repeat_alert_after_s,
                     "min_inter_ocular_px": config.policy.min_inter_ocular_px},
        "walk": options.walk.as_dict(), "background": background.describe(),
        "dataset": name, "dataset_path": str(options.dataset), "nonmated_sets": [str(p) for p in options.nonmated_sets],
        "label_fixes": fixes_summary, "seed": options.seed, "gallery": split.gallery_size,
        "passersby": {"mated": sum(p.mated for p in walkers), "nonmated": sum(not p.mated for p in walkers),
                      "nonmated_by_set": _count_by(p.source_set for p in walkers if not p.mated),
                      "mated_identities": len({p.identity for p in walkers if p.mated}),
                      "source_without_face": [{"key": p.key, "mated": p.mated} for p in no_face],
                      "sampled": {"mated": options.mated, "nonmated": options.nonmated}},
        "screening": {"exclusions": str(options.exclusions) if options.exclusions else None,
                      "excluded": [{"key": p.key, "why": exclusions[p.key]} for p in excluded],
                      "threshold": options.screen_threshold, "candidates": screening},
    }
    frames = sum(s.frames for s in scenes)
    report["timing_s"] = {"total": round(time.perf_counter() - started, 1), "pipeline": round(pipeline_seconds, 1),
                          "frames": frames, "frames_per_s": round(frames / max(pipeline_seconds, 1e-9), 2),
                          "seconds_per_passerby": round(pipeline_seconds / max(walked, 1), 3)}
    report["host"] = {"node": platform.node(), "machine": platform.machine(), "python": platform.python_version()}
    report["shard"] = {"k": shard_k, "n": shard_n, "parts": [shard_k]}
    recording = Recording(report, scenes, walkers, logs, matcher, reference_of, options)
    if shard_n > 1:  # the other parts' passers-by did not walk here: Recording.merge brings them back
        recording = recording.without({w.key for i, w in enumerate(walkers) if (i // lanes) % shard_n != shard_k - 1})
    if options.save_recording:
        recording.save(options.save_recording)
    return measure_recording(recording, options)


class _RenamedModules(pickle.Unpickler):
    """Reads recordings saved before a module they hold was renamed (``recognition.pipeline`` is
    ``recognition.batch`` since 2026-12-01), so older runs can still be measured again."""

    RENAMED = {"recognition.pipeline": "recognition.batch"}

    def find_class(self, module: str, name: str):
        return super().find_class(self.RENAMED.get(module, module), name)


@dataclass
class Recording:
    """Everything a run measured, before any decision or threshold is applied: measuring it again (other
    decisions, other thresholds) takes seconds, where recording takes the whole walk-by run. It holds the
    run's embeddings and false-alert crops of the data set's faces: kept local like false_alerts/."""

    head: dict  # the report's description of the run
    scenes: list[SceneLog]
    walkers: list[Passerby]
    logs: list[WalkerLog]
    matcher: WatchlistMatcher
    reference_of: dict
    options: LiveOptions  # as recorded; measure with replace(options, ...) for other decisions or thresholds

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with Path(path).open("wb") as handle:
            pickle.dump(self, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def without(self, keys: set[str]) -> Recording:
        """This recording as if the passers-by with these keys had not walked (screened out after the run, or
        walking in another part of a run in shards): their log entries go; tracks left with no entry go too."""
        kept = [i for i, w in enumerate(self.walkers) if w.key not in keys]
        if len(kept) == len(self.walkers):
            return self
        index = {old: new for new, old in enumerate(kept)}
        scenes = []
        for scene in self.scenes:
            tracks = []
            for track in scene.tracks:
                entries = [replace(e, walker=None if e.walker is None else index[e.walker]) for e in track.embedded
                           if e.walker is None or e.walker in index]
                if entries or not track.embedded:
                    tracks.append(replace(track, embedded=entries))
            scenes.append(replace(scene, tracks=tracks))
        return replace(self, scenes=scenes, walkers=[self.walkers[i] for i in kept], logs=[self.logs[i] for i in kept],
                       head=self.head | {"passersby": self.head["passersby"] | _counts([self.walkers[i] for i in kept])})

    @classmethod
    def merge(cls, parts: Sequence[Recording]) -> Recording:
        """The parts of one run in shards as one recording: what the whole run would have recorded, since each
        scene is a camera of its own (passers-by and track logs are renumbered; order does not matter)."""
        if not parts:
            raise ValueError("no recording to merge")
        first = parts[0]
        if len(parts) == 1:
            return first
        same = _run_identity(first)
        shards = [part.head.get("shard") or {"k": 1, "n": 1, "parts": [1]} for part in parts]
        if any(_run_identity(part) != same for part in parts[1:]) or len({s["n"] for s in shards}) != 1:
            raise ValueError("these recordings are not parts of one run (model, passers-by or options differ)")
        taken = [k for s in shards for k in s["parts"]]
        if len(taken) != len(set(taken)):
            raise ValueError(f"a part is given twice: parts {sorted(taken)}")
        scenes, walkers, logs = [], [], []
        for part in parts:
            offset = len(walkers)
            scenes += [replace(scene, tracks=[replace(track, embedded=[
                replace(e, walker=None if e.walker is None else e.walker + offset) for e in track.embedded])
                for track in scene.tracks]) for scene in part.scenes]
            walkers += part.walkers
            logs += part.logs
        head = first.head | {"passersby": first.head["passersby"] | _counts(walkers),
                             "shard": {"k": None, "n": shards[0]["n"], "parts": sorted(taken)},
                             "timing_s": _summed_timing([part.head["timing_s"] for part in parts], len(walkers))}
        return replace(first, head=head, scenes=scenes, walkers=walkers, logs=logs)

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        with Path(path).open("rb") as handle:
            recording = _RenamedModules(handle).load()
        if not isinstance(recording, cls):
            raise ValueError(f"{path} is not a walk-by recording")
        return recording


def _counts(walkers: Sequence[Passerby]) -> dict:
    return {"mated": sum(w.mated for w in walkers), "nonmated": sum(not w.mated for w in walkers),
            "nonmated_by_set": _count_by(w.source_set for w in walkers if not w.mated),
            "mated_identities": len({w.identity for w in walkers if w.mated})}


def _run_identity(recording: Recording) -> tuple:
    head = recording.head
    keys = ("model", "detector", "det_size", "flip", "pipeline", "walk", "background", "dataset", "nonmated_sets",
            "label_fixes", "seed", "gallery")
    # The photos screened out before the run decide who walks in which scene: parts must share them.
    excluded = sorted(entry["key"] for entry in head["screening"]["excluded"])
    return tuple(repr(head.get(key)) for key in keys) + (repr(head["passersby"].get("sampled")), repr(excluded))


def _summed_timing(timings: list[dict], walked: int) -> dict:
    pipeline, frames = sum(t["pipeline"] for t in timings), sum(t["frames"] for t in timings)
    return {"total": round(sum(t["total"] for t in timings), 1), "pipeline": round(pipeline, 1), "frames": frames,
            "frames_per_s": round(frames / max(pipeline, 1e-9), 2),
            "seconds_per_passerby": round(pipeline / max(walked, 1), 3), "parts": len(timings)}


def load_child_entries(name_or_path: str | Path | None) -> dict[str, str]:
    """identity -> why it counts as enrolled as a child, from a label_fixes-style file (``child_entries``)."""
    if not name_or_path:
        return {}
    return {entry["identity"]: entry["why"] for entry in label_fixes.load(name_or_path).get("child_entries", [])}


def measure_recording(recording: Recording, options: LiveOptions) -> dict:
    """The report of a recorded run under ``options.pipeline.decision`` (and the child-entry policy), with
    every decision of ``options.compare_decisions`` and each of ``options.compare_child_offsets`` measured
    beside it on the same recording."""
    excluded = {key: why for key, why in load_exclusions(options.exclusions).items()
                if key not in {e["key"] for e in recording.head["screening"]["excluded"]}}
    excluded_now = [w for w in recording.walkers if w.key in excluded]
    if excluded_now:  # screened after the run: measured as if they had not walked
        recording = recording.without({w.key for w in excluded_now})
        recording.head["screening"] = recording.head["screening"] | {
            "excluded": recording.head["screening"]["excluded"] + [{"key": w.key, "why": excluded[w.key]} for w in excluded_now]}
    decision, matcher = options.pipeline.decision, recording.matcher
    children = sorted(set(load_child_entries(options.child_entries)) & set(matcher.subjects))
    offsets = dict.fromkeys(children, options.child_offset) if options.child_offset else None
    scenes = [with_decision(scene, decision, matcher, offsets) for scene in recording.scenes]
    report = dict(recording.head) | {"decision": decision.describe(),
                                     "child_entries": {"file": str(options.child_entries) if options.child_entries else None,
                                                       "in_gallery": children, "offset": options.child_offset}}
    report.update(_measure(scenes, recording.walkers, recording.logs, options, recording.reference_of))
    baseline = report["operating_threshold"]["false_alerts"]["false_alerts"]

    def row(other: TrackDecision, other_offsets: dict | None, offset: float) -> dict:
        decided = [with_decision(scene, other, matcher, other_offsets) for scene in recording.scenes]
        return _decision_row(other, decided, recording, options, baseline) | {"child_offset": offset}

    others = [d for d in options.compare_decisions if d.describe() != decision.describe()]
    report["decisions"] = [row(other, offsets, options.child_offset) for other in (decision, *others)]
    if children:
        report["decisions"] += [row(decision, dict.fromkeys(children, offset), offset)
                                for offset in options.compare_child_offsets if offset != options.child_offset]
    report["_scenes"] = scenes  # for tests and the images; dropped from the JSON
    return report


def _count_by(values) -> dict:
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _records(engine, files: list[ImageFile], cache, options: LiveOptions, say, label: str, *, geometry: bool = False,
             keys: list[str] | None = None) -> dict[str, FaceRecord]:
    """key (relative path, or ``keys``) -> clean record of the central face."""
    names = [f.path.as_posix() for f in files]
    by_name = {n: replace(f, relative_path=n) for n, f in zip(names, files, strict=True)}
    shas = hash_files(list(by_name.values()))
    variant = variant_key(engine, selection="central") + ("|geometry=1" if geometry else "")
    records = embed_files(engine, list(by_name.values()), shas, cache=cache, variant=variant,
                          batch_size=options.batch_size, progress=say, label=label, selection="central",
                          geometry=geometry)
    keys = keys or [f.relative_path for f in files]
    return {key: records[shas[n]] for key, n in zip(keys, names, strict=True)}


def _matcher(split, gallery_items, records) -> WatchlistMatcher:
    vectors, subjects = [], []
    for (identity, _), item in zip(split.references.items(), gallery_items, strict=True):
        record = records[item]
        if record.has_face:
            vectors.append(record.embedding)
            subjects.append(identity)
    if not vectors:
        raise ValueError("no reference image of the gallery has a detectable face")
    return WatchlistMatcher(references=np.stack(vectors), subject_ids=subjects)


def _source_face(passerby: Passerby, record: FaceRecord) -> SourceFace:
    image = decode_image(passerby.file.path.read_bytes())
    return SourceFace(passerby.key, image, np.asarray(record.quality["box"], np.float32),
                      np.asarray(record.quality["landmarks"], np.float32).reshape(5, 2))


def _screen(engine, nonmated: list[Passerby], records, matcher: WatchlistMatcher, images, files, cache,
            options: LiveOptions, say) -> list[dict]:
    """Non-mated photos whose clean face scores ``screen_threshold`` or more against the gallery, each
    compared with every photo of the identity it matched: a high best similarity there usually means the
    enrolled person after all (a celebrity in UTKFace, an enrolled bystander), to be checked by eye and
    listed in the exclusions with a reason."""
    found = [p for p in nonmated if records[p.key].has_face]
    if not found:
        return []
    matches = matcher.top_k(np.stack([records[p.key].embedding for p in found]), 1)
    flagged = [(p, m[0]) for p, m in zip(found, matches, strict=True) if m and m[0].score >= options.screen_threshold]
    wanted = sorted({item for _, m in flagged for item in images.get(m.subject_id, [])})
    photos = _records(engine, [files[i] for i in wanted], cache, options, say, "screening") if wanted else {}
    out = []
    for passerby, match in sorted(flagged, key=lambda pm: -pm[1].score):
        vector = records[passerby.key].embedding
        similarities = [float(vector @ photos[i].embedding) for i in images.get(match.subject_id, []) if photos[i].has_face]
        out.append({"key": passerby.key, "gallery_identity": match.subject_id, "gallery_score": round(float(match.score), 4),
                    "best_similarity_to_identity": round(max(similarities), 4) if similarities else None,
                    "identity_photos": len(similarities), "groups": passerby.groups})
    return out


# ------------------------------------------------------------------------------------------ measures

def _rate(k: int, n: int) -> dict:
    low, high = metrics.proportion_interval(k, n) if n else (math.nan, math.nan)
    return {"count": k, "of": n, "rate": k / n if n else math.nan, "interval95": [low, high]}


@dataclass
class _Outcome:
    hit: bool = False
    hit_frame: int | None = None
    hit_io: float | None = None
    wrong: bool = False
    false: bool = False
    best: dict | None = None  # the highest-scoring alert (for the top false alerts)


def _outcomes(alerts: list[dict], walkers: Sequence[Passerby]) -> tuple[list[_Outcome], int]:
    outcomes = [_Outcome() for _ in walkers]
    background = 0
    for alert in alerts:
        index = alert["walker"]
        if index is None:
            background += 1
            continue
        outcome, walker = outcomes[index], walkers[index]
        if walker.mated and alert["subject"] == walker.identity:
            if not outcome.hit or alert["frame"] < outcome.hit_frame:
                outcome.hit, outcome.hit_frame, outcome.hit_io = True, alert["frame"], alert["inter_ocular"]
        elif walker.mated:
            outcome.wrong = True
        else:
            outcome.false = True
        if not (walker.mated and alert["subject"] == walker.identity) and (
                outcome.best is None or alert["score"] > outcome.best["score"]):
            outcome.best = alert
    return outcomes, background


def _alerts_at(scenes, threshold: float, options: LiveOptions) -> list[dict]:
    return [alert for scene in scenes
            for alert in replay(scene, threshold, fps=options.walk.fps, repeat_window_s=options.pipeline.repeat_alert_after_s)]


def _point(scenes, walkers, threshold: float, options: LiveOptions) -> dict:
    outcomes, background = _outcomes(_alerts_at(scenes, threshold, options), walkers)
    mated = [o for o, w in zip(outcomes, walkers, strict=True) if w.mated]
    nonmated = [o for o, w in zip(outcomes, walkers, strict=True) if not w.mated]
    return {"threshold": float(threshold), "tpir": _rate(sum(o.hit for o in mated), len(mated)),
            "wrong_subject": _rate(sum(o.wrong for o in mated), len(mated)),
            "false_alerts": per_1000(sum(o.false for o in nonmated), len(nonmated)),
            "background_alerts": background}


def _threshold_allowing(scenes, walkers, allowed: int, options: LiveOptions) -> float:
    """The lowest threshold at which at most ``allowed`` non-mated passers-by are falsely alerted."""
    scores = sorted({entry[2] for scene in scenes for track in scene.tracks for entry in track.history
                     if entry[3] is not None and not walkers[entry[3]].mated})
    chosen = 0.0
    for score in reversed(scores):
        candidate = float(np.nextafter(score, -np.inf))  # just below: this face would alert
        outcomes, _ = _outcomes(_alerts_at(scenes, candidate, options), walkers)
        if sum(o.false for o, w in zip(outcomes, walkers, strict=True) if not w.mated) > allowed:
            chosen = float(np.nextafter(score, np.inf))
            break
    return max(chosen, 1e-6)


def _threshold_at_rate(scenes, walkers, target: float, options: LiveOptions) -> dict:
    nonmated = sum(not w.mated for w in walkers)
    allowed = int(math.floor(target * nonmated + 1e-9))
    point = _point(scenes, walkers, _threshold_allowing(scenes, walkers, allowed, options), options)
    resolved = nonmated >= 1 / target
    return point | {"target": target, "allowed_false_alerts": allowed, "resolved": resolved,
                    "note": None if resolved else f"{nonmated} non-mated passers-by cannot resolve {target:g}: "
                                                  f"the threshold allows 0 false alerts"}


def _first_frame_at_px(walk) -> int | None:
    return next((k for k in range(walk.frames) if walk.inter_ocular_at(k) >= TIME_TO_ALERT_FROM_PX), None)


def _time_to_alert_from_px(outcomes, walkers, walk) -> dict | None:
    """Seconds from the first frame with the face at TIME_TO_ALERT_FROM_PX or more, of the hits."""
    first = _first_frame_at_px(walk)
    if first is None:
        return None
    # An alert before the face reached that size counts as no delay.
    return _distribution([max(0, o.hit_frame - first) / walk.fps
                          for o, w in zip(outcomes, walkers, strict=True) if w.mated and o.hit])


def _decision_row(decision: TrackDecision, scenes, recording, options: LiveOptions, baseline_false_alerts: int) -> dict:
    """One decision on the recorded run: at the operating threshold, and at the threshold allowing as
    many false alerts as the production decision gives there (TPIR at a fixed false alert rate)."""
    walkers = recording.walkers
    operating = _point(scenes, walkers, options.operating_threshold, options)
    matched = _threshold_allowing(scenes, walkers, baseline_false_alerts, options)
    at_rate = {f"{t:g}": _threshold_at_rate(scenes, walkers, t, options) for t in options.false_alert_targets}
    return {"decision": decision.describe(), "operating": operating,
            "time_to_alert_s": _time_to_alert_from_px(_outcomes(_alerts_at(scenes, options.operating_threshold, options),
                                                                 walkers)[0], walkers, options.walk),
            "at_baseline_false_alerts": _point(scenes, walkers, matched, options) | {"allowed": baseline_false_alerts},
            "at_false_alert_rate": {k: {"threshold": v["threshold"], "tpir": v["tpir"]["rate"],
                                        "false_alerts": v["false_alerts"]["false_alerts"], "resolved": v["resolved"]}
                                    for k, v in at_rate.items()}}


def _distribution(values: list[float]) -> dict | None:
    if not values:
        return None
    array = np.asarray(values, np.float64)
    return {"count": len(array), "median": float(np.median(array)), "p90": float(np.percentile(array, 90)),
            "max": float(array.max())}


def _measure(scenes, walkers, logs, options: LiveOptions, reference_of: dict) -> dict:
    walk, threshold = options.walk, options.operating_threshold
    alerts = _alerts_at(scenes, threshold, options)
    outcomes, background = _outcomes(alerts, walkers)
    mated_index = [i for i, w in enumerate(walkers) if w.mated]
    nonmated_index = [i for i, w in enumerate(walkers) if not w.mated]
    hits = [outcomes[i] for i in mated_index if outcomes[i].hit]
    time_to_alert = {
        "frames_from_first_appearance": _distribution([o.hit_frame for o in hits]),
        "seconds_from_first_appearance": _distribution([o.hit_frame / walk.fps for o in hits]),
        f"seconds_from_first_frame_at_{TIME_TO_ALERT_FROM_PX:g}px": _time_to_alert_from_px(outcomes, walkers, walk),
        f"first_frame_at_{TIME_TO_ALERT_FROM_PX:g}px": _first_frame_at_px(walk),
    }
    operating = _point(scenes, walkers, threshold, options)
    operating["time_to_alert"] = time_to_alert

    def never(indices, attribute) -> dict:
        return _rate(sum(getattr(logs[i], attribute) is None for i in indices), len(indices))

    operating["never_detected"] = {"mated": never(mated_index, "first_detected"),
                                   "nonmated": never(nonmated_index, "first_detected")}
    operating["never_embedded"] = {"mated": never(mated_index, "first_embedded"),
                                   "nonmated": never(nonmated_index, "first_embedded")}
    report = {"operating_threshold": operating,
              "at_threshold": {f"{t:.2f}": _point(scenes, walkers, t, options) for t in options.fixed_thresholds},
              "threshold_at_false_alert_rate": {f"{t:g}": _threshold_at_rate(scenes, walkers, t, options)
                                                for t in options.false_alert_targets},
              "by_band": _by_band(outcomes, alerts, walkers, logs, options),
              "groups": false_alerts_by_group([outcomes[i].false for i in nonmated_index],
                                              [walkers[i].groups for i in nonmated_index]),
              "top_false_alerts": _top_false_alerts(scenes, walkers, reference_of, options),
              "curve": [_curve_point(scenes, walkers, t, options) for t in CALIBRATION_THRESHOLDS]}
    report["targets"] = _targets(report)
    return report


def _curve_point(scenes, walkers, threshold, options) -> dict:
    """One threshold of the walk-by calibration: counts, and false alerts per labelled group as [count, of]."""
    outcomes, _ = _outcomes(_alerts_at(scenes, threshold, options), walkers)
    mated = [o for o, w in zip(outcomes, walkers, strict=True) if w.mated]
    nonmated = [(o, w) for o, w in zip(outcomes, walkers, strict=True) if not w.mated]
    false_alerts = sum(o.false for o, _ in nonmated)
    return {"threshold": threshold, "true_alerts": sum(o.hit for o in mated), "mated": len(mated),
            "tpir": sum(o.hit for o in mated) / len(mated) if mated else math.nan,
            "false_alerts": false_alerts, "nonmated": len(nonmated),
            "wrong_subject": sum(o.wrong for o in mated),
            "groups": group_counts([o.false for o, _ in nonmated], [w.groups for _, w in nonmated])}


def _by_band(outcomes, alerts, walkers, logs, options: LiveOptions) -> list[dict]:
    """Per inter-ocular band. The pipeline is causal, so "by the band's upper edge" is what a walk that
    ended there would give (see docs/evaluation.md)."""
    walk, edges = options.walk, list(options.bands)
    io_of = [walk.inter_ocular_at(k) for k in range(walk.frames)]
    mated = [i for i, w in enumerate(walkers) if w.mated]
    nonmated = [i for i, w in enumerate(walkers) if not w.mated]
    false_io: dict[int, float] = {}
    for alert in alerts:
        i = alert["walker"]
        if i is not None and not walkers[i].mated:
            false_io[i] = min(false_io.get(i, math.inf), alert["inter_ocular"])
    rows = []
    for low, high in zip(edges, edges[1:], strict=False):
        reached = [i for i in range(len(walkers)) if io_of[-1] >= low and io_of[0] < high]
        if not reached:
            continue

        def by_high(frame, high=high) -> bool:
            return frame is not None and io_of[frame] < high

        rows.append({
            "band_px": [low, high],
            "frames_in_band": sum(low <= v < high for v in io_of),
            "tpir_by_upper_edge": _rate(sum(by_high(outcomes[i].hit_frame) for i in mated), len(mated)),
            "first_alerts_in_band": sum(outcomes[i].hit_io is not None and low <= outcomes[i].hit_io < high for i in mated),
            "detected_by_upper_edge": _rate(sum(by_high(logs[i].first_detected) for i in mated + nonmated), len(walkers)),
            "embedded_by_upper_edge": _rate(sum(by_high(logs[i].first_embedded) for i in mated + nonmated), len(walkers)),
            "false_alerts_by_upper_edge": per_1000(sum(v < high for v in false_io.values()), len(nonmated)),
        })
    return rows


def _top_false_alerts(scenes, walkers, reference_of, options: LiveOptions) -> list[dict]:
    """Highest-scoring false and wrong-subject alerts over the whole run (at their own score as threshold)."""
    best: dict[int, tuple] = {}
    for scene in scenes:
        for track in scene.tracks:
            for frame, subject, score, walker, io, crop in track.history:
                if walker is None or (walkers[walker].mated and walkers[walker].identity == subject):
                    continue
                if walker not in best or score > best[walker][2]:
                    best[walker] = (frame, subject, score, io, crop, scene.tracks[0].scene)
    rows = []
    for walker, (frame, subject, score, io, crop, scene_index) in sorted(best.items(), key=lambda kv: -kv[1][2])[: options.top_n]:
        passerby = walkers[walker]
        rows.append({"score": round(score, 4), "passerby": passerby.key, "passerby_path": str(passerby.file.path),
                     "mated": passerby.mated, "groups": passerby.groups, "gallery_identity": subject,
                     "gallery_reference": reference_of.get(subject), "scene": scene_index, "frame": frame,
                     "inter_ocular_px": round(io, 1), "_crop": crop})
    return rows


def _targets(report: dict) -> list[dict]:
    operating = report["operating_threshold"]
    fa = operating["false_alerts"]
    tta = operating["time_to_alert"].get(f"seconds_from_first_frame_at_{TIME_TO_ALERT_FROM_PX:g}px")
    at_1e4 = report["threshold_at_false_alert_rate"].get("0.0001")
    rows = [
        {"target": "TPIR >= 0.95 at the operating threshold", "value": operating["tpir"]["rate"],
         "met": operating["tpir"]["rate"] >= 0.95 if operating["tpir"]["of"] else None},
        {"target": "<= 1 false alert per 1,000 passers-by at the operating threshold", "value": fa["per_1000"],
         "upper95": fa["upper95_per_1000"],
         "met": (None if not fa["passersby"] else True if fa["upper95_per_1000"] <= 1.0
                 else False if fa["per_1000"] > 1.0 else None),
         "note": "met only when the 95% upper bound is at most 1 per 1,000" + (
             f"; {fa['passersby']} passers-by cannot show it (upper bound {fa['upper95_per_1000']:.2f})"
             if fa["passersby"] and fa["upper95_per_1000"] > 1.0 and fa["false_alerts"] * 1000 <= fa["passersby"] else "")},
        {"target": "TPIR >= 0.90 at 1 false alert per 10,000", "value": at_1e4["tpir"]["rate"] if at_1e4 else None,
         "threshold": at_1e4["threshold"] if at_1e4 else None,
         "met": (at_1e4["tpir"]["rate"] >= 0.90) if at_1e4 and at_1e4["resolved"] else None,
         "note": at_1e4["note"] if at_1e4 else "not computed"},
        {"target": f"median time to alert < 1 s from the first frame at >= {TIME_TO_ALERT_FROM_PX:g} px",
         "value": tta["median"] if tta else None, "met": (tta["median"] < 1.0) if tta else None},
    ]
    return rows
