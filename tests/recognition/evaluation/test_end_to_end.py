"""The evaluation core end to end on a tiny face set built from packaged photos (see conftest.py)."""

import json

import pytest

from recognition.evaluation import EvaluationOptions, run_evaluation, write_report
from recognition.evaluation.report import default_out_dir, summary_lines

REQUIRED_KEYS = {"model", "gallery", "mated_probes", "nonmated_probes", "rank1", "tpir_at_fpir", "at_threshold",
                 "top_nonmated", "no_face"}


@pytest.fixture(scope="module")
def clean_run(tiny_dataset, engine, tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("cache")
    options = EvaluationOptions(dataset=tiny_dataset, gallery_size=7, seed=0, cache_dir=cache_dir, batch_size=8)
    return options, run_evaluation(options, engine=engine)


def test_counts_scores_and_no_face_listing(clean_run):
    options, report = clean_run
    assert REQUIRED_KEYS <= set(report)
    # 11 identities: 8 with 3 images (person00 has a 4th, faceless one), 3 with one.
    assert report["dataset_identities"] == 11 and report["dataset_images"] == 28
    assert report["gallery"] == 7 and report["gallery_images"] == 7
    assert report["mated_probes"] + report["nonmated_probes"] + report["gallery_images"] == 28
    assert report["mated_probes"] > 0 and report["nonmated_probes"] > 0
    no_face = report["no_face"]
    listed = no_face["gallery"] + no_face["mated"] + no_face["nonmated"]
    assert [entry["item"] for entry in listed] == ["person00/person00_0004.jpg"]
    assert sum(no_face["count"].values()) == 1
    # Pictures of the same person match, different people do not.
    searched_mated = report["mated_probes"] - no_face["count"]["mated"]
    assert report["rank1"] == pytest.approx(searched_mated / report["mated_probes"])
    assert report["at_threshold"]["0.40"]["tpir"] == pytest.approx(searched_mated / report["mated_probes"])
    assert report["at_threshold"]["0.40"]["fpir"] == 0.0
    assert all(entry["score"] < 0.4 for entry in report["top_nonmated"])
    assert report["tpir_at_fpir"]["1e-2"]["false_alerts"] == 0
    assert report["tpir_at_fpir"]["1e-2"]["threshold"] == pytest.approx(report["top_nonmated"][0]["score"], abs=1e-4)


def test_second_run_comes_from_the_cache(clean_run, engine):
    options, first = clean_run
    assert first["cache"]["misses"] > 0
    second = run_evaluation(options, engine=engine)
    assert second["cache"]["misses"] == 0 and second["cache"]["hits"] == first["cache"]["misses"]
    for key in ("rank1", "tpir_at_fpir", "at_threshold", "top_nonmated"):
        assert second[key] == first[key]


def test_cctv_probes_are_degraded_and_the_gallery_stays_clean(tiny_dataset, engine, tmp_path):
    options = EvaluationOptions(dataset=tiny_dataset, gallery_size=7, seed=0, degrade="cctv", cache_dir=tmp_path, batch_size=8)
    report = run_evaluation(options, engine=engine)
    assert report["degrade_profile"]["key"] == "cctv-v1:io24-40:blur0.6-1.2:q30-50:small:seed0"
    io = report["probe_inter_ocular_px"]
    assert 20 <= io["min"] and io["max"] <= 44  # probes shrunk from ~50 px to 24-40 px
    assert report["rank1"] > 0.8


def test_report_files(clean_run, tmp_path):
    _, report = clean_run
    paths = write_report(report, tmp_path / "out")
    saved = json.loads(paths["json"].read_text())
    assert REQUIRED_KEYS <= set(saved) and "_det_curve" not in saved
    assert set(saved["tpir_at_fpir"]["1e-3"]) >= {"tpir", "threshold"}
    assert set(saved["at_threshold"]["0.40"]) >= {"tpir", "fpir"}
    assert paths["det"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Rank-1" in paths["markdown"].read_text()
    assert any(line.startswith("rank-1") for line in summary_lines(report))
    assert default_out_dir(report, "lfw-dev", "cctv").name == "eval-w600k_mbf-lfw-dev-cctv"


def test_extra_nonmated_set_is_searched_and_reported_per_group(tiny_dataset, engine, tmp_path):
    import cv2

    extra = tmp_path / "labelled"
    extra.mkdir()
    person = cv2.imread(str(tiny_dataset / "person08" / "person08_0001.jpg"))
    cv2.imwrite(str(extra / "x.jpg"), person)
    cv2.imwrite(str(extra / "y.jpg"), person[:, ::-1])
    (extra / "labels.csv").write_text("file,age,gender_code,gender,race_code,race\nx.jpg,30,0,male,2,Asian\n"
                                      "y.jpg,70,1,female,0,White\n")
    base = EvaluationOptions(dataset=tiny_dataset, gallery_size=7, seed=0, cache_dir=tmp_path / "cache", batch_size=8)
    without = run_evaluation(base, engine=engine)
    report = run_evaluation(EvaluationOptions(**{**base.__dict__, "nonmated_sets": (extra,)}), engine=engine)
    assert report["nonmated_probes"] == without["nonmated_probes"] + 2
    assert report["nonmated_by_set"] == {"dataset": without["nonmated_probes"], "labelled": 2}
    assert report["mated_probes"] == without["mated_probes"]
    race = report["groups"]["race"]["groups"]
    assert set(race) == {"Asian", "White"} and all(row["passersby"] == 1 for row in race.values())
    # person08 is enrolled or not; either way the two copies alert together or not at all.
    assert race["Asian"]["false_alerts"] == race["White"]["false_alerts"]
    assert "no non-mated set with group labels" in without["groups"]["note"]
