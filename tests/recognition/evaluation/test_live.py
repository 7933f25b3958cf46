"""Walk-by evaluation through the live pipeline on packaged photos (see conftest.py), and on ../shared data."""

import json

import numpy as np
import pytest

from recognition.batch import PipelineConfig, live_detector
from recognition.evaluation.live import (
    LiveOptions,
    WalkerLog,
    measure_recording,
    replay,
    run_live_evaluation,
    run_scene,
    with_decision,
)
from recognition.evaluation.live_report import summary_lines, write_live_report
from recognition.evaluation.walkby import SourceFace, SyntheticBackground, WalkByConfig, WalkByScene
from recognition.ml.decision import AgreementDecision, FrameDecision, MarginDecision, TemplateDecision
from recognition.ml.matcher import WatchlistMatcher

from .conftest import SHARED_DATA

SMALL_WALK = WalkByConfig(frame_size=(1280, 720), fps=10, walk_seconds=2, inter_ocular=(30, 70), lanes=4)


@pytest.fixture(scope="module")
def live_run(tiny_dataset, engine, tmp_path_factory):
    options = LiveOptions(dataset=tiny_dataset, gallery_size=7, walk=SMALL_WALK, cache_dir=tmp_path_factory.mktemp("cache"))
    return options, run_live_evaluation(options, engine=engine)


def test_mated_passers_by_are_alerted_on_their_own_subject(live_run):
    _, report = live_run
    passers = report["passersby"]
    assert passers["mated"] > 0 and passers["nonmated"] > 0
    # The faceless image of the set cannot walk past; it is listed, not dropped silently.
    assert [p["key"].endswith("person00_0004.jpg") for p in passers["source_without_face"]] == [True]
    operating = report["operating_threshold"]
    assert operating["tpir"]["of"] == passers["mated"]
    assert operating["tpir"]["rate"] >= 0.75
    assert operating["wrong_subject"]["count"] == 0
    assert operating["false_alerts"]["false_alerts"] == 0  # eleven different people
    assert operating["never_detected"]["mated"]["count"] == 0
    # 0 of n is not 0: the bound is reported.
    expected = 1000 * (1 - 0.05 ** (1 / passers["nonmated"]))
    assert operating["false_alerts"]["upper95_per_1000"] == pytest.approx(expected, rel=1e-6)
    tta = operating["time_to_alert"]["seconds_from_first_appearance"]
    assert 0 <= tta["median"] <= SMALL_WALK.walk_seconds


def test_rates_fall_as_the_threshold_rises(live_run):
    _, report = live_run
    curve = report["curve"]
    assert curve[0]["threshold"] == 0.0 and curve[-1]["threshold"] == 1.0
    assert curve[-1]["tpir"] == 0.0 and curve[-1]["false_alerts"] == 0
    false_alerts = [c["false_alerts"] for c in curve]
    assert false_alerts == sorted(false_alerts, reverse=True)
    assert curve[30]["tpir"] >= report["operating_threshold"]["tpir"]["rate"]


def test_report_has_every_figure_and_writes_its_files(live_run, tmp_path):
    _, report = live_run
    assert {"operating_threshold", "at_threshold", "threshold_at_false_alert_rate", "by_band", "groups",
            "top_false_alerts", "screening", "targets", "curve"} <= set(report)
    assert [row["band_px"] for row in report["by_band"]] == [[24.0, 32.0], [32.0, 48.0], [48.0, 80.0]]
    tpir_by_band = [row["tpir_by_upper_edge"]["rate"] for row in report["by_band"]]
    assert tpir_by_band == sorted(tpir_by_band)  # cumulative as the face grows
    assert report["threshold_at_false_alert_rate"]["0.0001"]["resolved"] is False
    assert "no non-mated set with group labels" in report["groups"]["note"]
    paths = write_live_report(report, tmp_path / "out")
    saved = json.loads(paths["json"].read_text())
    assert "_scenes" not in saved and saved["operating_threshold"]["tpir"]["of"] == report["passersby"]["mated"]
    assert len(paths["images"]) == len(report["top_false_alerts"])
    assert all(p.read_bytes()[:2] == b"\xff\xd8" for p in paths["images"])
    markdown = paths["markdown"].read_text()
    assert "By inter-ocular band" in markdown and "Top false and wrong-subject alerts" in markdown
    assert any(line.startswith("threshold 0.45: TPIR") for line in summary_lines(report))


@pytest.mark.parametrize("decision", [FrameDecision(), TemplateDecision(keep=3), TemplateDecision(min_frames=2),
                                      AgreementDecision(frames=2), MarginDecision(margin=0.05)],
                         ids=lambda d: "-".join(str(v) for v in d.describe().values()))
def test_replayed_alerts_are_the_pipelines_own(people, engine, decision):
    """One recorded run serves every decision and threshold: the replay equals a real run of it."""
    sources, vectors = [], []
    for index, image in enumerate(people[:4]):
        face = max(engine.analyse([image])[0], key=lambda f: f.area)
        sources.append(SourceFace(f"p{index}", image, face.box, face.landmarks))
        vectors.append(face.embedding)
    matcher = WatchlistMatcher(references=np.stack(vectors[:3]), subject_ids=["p0", "p1", "p2"])
    config = PipelineConfig(det_size=(640, 384), decision=decision)
    detector = live_detector(engine, config.det_size)
    scene = WalkByScene(sources, SMALL_WALK, background=SyntheticBackground(), seed=5)

    def run(threshold, offsets=None):
        logs = [WalkerLog(None, 0) for _ in sources]
        return run_scene(scene, list(range(4)), logs, scene_index=0, engine=engine, matcher=matcher,
                         detector=detector, config=config, threshold=threshold, threshold_offsets=offsets)

    recording = run(None)
    for offsets in (None, {"p0": 0.15}):
        recorded = with_decision(recording, decision, matcher, offsets)
        for threshold in (0.45, 0.6):
            real = run(threshold, offsets)
            replayed = replay(recorded, threshold, fps=SMALL_WALK.fps, repeat_window_s=config.repeat_alert_after_s)
            assert [(a.track_id, a.frame_index, a.subject_id) for a in real.alerts] == \
                   [(a["track_id"], a["frame"], a["subject"]) for a in replayed]
            # The replayed score is the evidence less the subject's offset; the alert shows the raw score.
            assert [round(a.score - (offsets or {}).get(a.subject_id, 0), 5) for a in real.alerts] == \
                   [round(a["score"], 5) for a in replayed]
    # Not vacuous: enrolled people walking past are alerted, the one not enrolled is not; an offset holds one back.
    subjects = {a["subject"] for a in replay(with_decision(recording, decision, matcher), 0.45, fps=10, repeat_window_s=60)}
    assert len(subjects) >= 2 and subjects <= {"p0", "p1", "p2"}
    held_back = replay(with_decision(recording, decision, matcher, {"p0": 1.0}), 0.45, fps=10, repeat_window_s=60)
    assert "p0" in subjects and "p0" not in {a["subject"] for a in held_back}


def test_shared_lfw_and_utkface_subset(lfw_dev, engine, tmp_path):
    utkface = SHARED_DATA / "faces" / "utkface-dev"
    if not utkface.is_dir():
        pytest.skip(f"utkface-dev not found at {utkface} (../shared/data is not part of the repository)")
    options = LiveOptions(dataset=lfw_dev, nonmated_sets=(utkface,), gallery_size=300, label_fixes="lfw-dev",
                          mated=8, nonmated=12, walk=SMALL_WALK, cache_dir=tmp_path)
    report = run_live_evaluation(options, engine=engine)
    assert report["passersby"]["mated"] + len([p for p in report["passersby"]["source_without_face"] if p["mated"]]) == 8
    assert set(report["passersby"]["nonmated_by_set"]) <= {"lfw-dev", "utkface-dev"}
    if "utkface-dev" in report["passersby"]["nonmated_by_set"]:
        assert {"race", "sex", "age_band", "race x sex"} <= set(report["groups"])
    assert report["operating_threshold"]["tpir"]["rate"] >= 0.5


def test_screened_out_photos_do_not_walk_and_are_listed(tiny_dataset, engine, tmp_path, live_run):
    from recognition.evaluation.dataset import list_dataset
    from recognition.evaluation.protocol import split_identities

    options, first = live_run
    counts = {identity: len(files) for identity, files in list_dataset(tiny_dataset).items()}
    held_out = split_identities(counts, gallery_size=7, seed=options.seed).held_out[0]
    key = f"{tiny_dataset.name}/{held_out}/{held_out}_0001.jpg"
    exclusions = tmp_path / "exclusions.json"
    exclusions.write_text(json.dumps({"exclude": [{"image": key, "why": "test: the enrolled person after all"}]}))
    report = run_live_evaluation(LiveOptions(**{**options.__dict__, "exclusions": exclusions}), engine=engine)
    assert report["screening"]["excluded"] == [{"key": key, "why": "test: the enrolled person after all"}]
    assert report["passersby"]["nonmated"] == first["passersby"]["nonmated"] - 1
    assert report["passersby"]["mated"] == first["passersby"]["mated"]


def test_bundled_screening_exclusions_have_reasons():
    from recognition.evaluation.live import load_exclusions

    exclusions = load_exclusions("walkby-nonmated")
    assert exclusions and all(key.startswith(("utkface-dev/", "lfw-dev/")) and why for key, why in exclusions.items())


def test_a_run_in_shards_measures_as_the_whole_run(live_run, engine, tmp_path):
    """A long protocol runs in parts (one per session or host); measured together they are the whole run."""
    from dataclasses import replace

    from recognition.evaluation.live import Recording

    options, whole = live_run
    paths = []
    for k in (1, 2):
        path = tmp_path / f"part{k}.pkl"
        part = run_live_evaluation(replace(options, shard=(k, 2), save_recording=path), engine=engine)
        assert 0 < part["passersby"]["mated"] + part["passersby"]["nonmated"] < \
            whole["passersby"]["mated"] + whole["passersby"]["nonmated"]
        assert part["shard"] == {"k": k, "n": 2, "parts": [k]}
        paths.append(path)
    parts = [Recording.load(p) for p in paths]
    merged = measure_recording(Recording.merge(parts), options)
    for key in ("operating_threshold", "curve", "by_band", "passersby"):
        assert merged[key] == whole[key], key
    assert merged["shard"]["parts"] == [1, 2]
    with pytest.raises(ValueError, match="given twice"):
        Recording.merge([parts[0], parts[0]])
    with pytest.raises(ValueError, match="not parts of one run"):
        Recording.merge([parts[0], replace(parts[1], head=parts[1].head | {"seed": 99})])
    # Photos screened out before a part ran change who walks in which scene: such parts are not one run.
    other = parts[1].head | {"screening": parts[1].head["screening"] | {"excluded": [{"key": "x/y.jpg", "why": "test"}]}}
    with pytest.raises(ValueError, match="not parts of one run"):
        Recording.merge([parts[0], replace(parts[1], head=other)])


def test_a_shard_is_spelt_k_of_n():
    from recognition.evaluation.live import parse_shard

    assert parse_shard("2/5") == (2, 5)
    for bad in ("0/3", "4/3", "3", "a/b"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)


def test_a_recording_saved_before_the_pipeline_module_was_renamed_still_loads(tmp_path):
    """Recordings hold the run's PipelineConfig; it lived in recognition.pipeline before recognition.batch."""
    import pickle

    from recognition.evaluation.live import Recording

    recording = Recording({}, [], [], [], None, {}, LiveOptions(dataset=tmp_path))
    old = pickle.dumps(recording, protocol=0).replace(b"recognition.batch\n", b"recognition.pipeline\n")
    assert b"recognition.pipeline" in old
    (tmp_path / "old.pkl").write_bytes(old)
    loaded = Recording.load(tmp_path / "old.pkl").options.pipeline
    assert type(loaded) is PipelineConfig and loaded.decision.describe() == PipelineConfig().decision.describe()
