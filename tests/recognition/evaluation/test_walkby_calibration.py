"""The walk-by calibration (per passer-by): from an evaluate_live report, to JSON and back, read at a threshold."""

import json

import pytest

from recognition.evaluation import calibration as calibration_module
from recognition.evaluation.calibration import fpir_upper_bound
from recognition.evaluation.walkby_calibration import (
    group_ratio_refusals,
    packaged_walkby_calibration,
    walkby_calibration_from_report,
    walkby_calibration_json,
    walkby_expectation_at,
)


def curve_point(threshold, *, false_alerts, true_alerts, groups=None, nonmated=450, mated=150):
    return {"threshold": threshold, "true_alerts": true_alerts, "mated": mated, "tpir": true_alerts / mated,
            "false_alerts": false_alerts, "nonmated": nonmated, "wrong_subject": 0,
            "groups": groups if groups is not None else {}}


# At 0.40: infants carry the false alerts (6 of 30), adults none of 420; at 0.45 fewer.
GROUPS_040 = {"age_band": {"0-2": [6, 30], "20-39": [0, 420]},
              "sex": {"female": [4, 220], "male": [2, 230]}}
GROUPS_045 = {"age_band": {"0-2": [3, 30], "20-39": [0, 420]},
              "sex": {"female": [2, 220], "male": [1, 230]}}


def live_report(**overrides) -> dict:
    """The keys of an evaluate_live report that a walk-by calibration reads."""
    return {
        "model": "w600k_mbf-9cc6e4a75f0e", "device": "cpu", "device_defaults": "cuda", "det_size": [960, 544],
        "walk": {"frame_size": [1920, 1080], "fps": 25.0, "walk_seconds": 4.0, "inter_ocular": [10.0, 80.0],
                 "lanes": 5, "frames_per_walk": 100},
        "dataset": "lfw-dev", "nonmated_sets": ["/data/shared/faces/utkface-dev"],
        "label_fixes": {"path": "recognition/evaluation/label_fixes/lfw-dev.json", "excluded_images": 3},
        "screening": {"exclusions": "walkby-nonmated", "excluded": [{"key": "utkface-dev/a.jpg", "why": "x"}]},
        "passersby": {"mated": 150, "nonmated": 450}, "gallery": 2500, "seed": 0,
        "curve": [curve_point(0.45, false_alerts=3, true_alerts=120, groups=GROUPS_045),
                  curve_point(0.40, false_alerts=6, true_alerts=134, groups=GROUPS_040),
                  curve_point(0.50, false_alerts=0, true_alerts=90)],
    } | overrides


def calibration(**overrides) -> dict:
    return walkby_calibration_from_report(live_report(**overrides), command=["manage.py", "evaluate_live", "--x", "a b"],
                                          measured_on="2026-11-30")


def test_the_calibration_keeps_the_run_its_curve_and_the_device_whose_live_defaults_it_measured():
    result = calibration()
    assert result["kind"] == "walkby" and result["model_id"] == "w600k_mbf-9cc6e4a75f0e"
    # --device-defaults cuda on a CPU: the figure is a CUDA worker's (detector input, frame rate), run on a CPU
    assert result["device"] == "cuda" and result["ran_on"] == "cpu" and result["det_size"] == [960, 544]
    assert result["fps"] == 25.0 and result["frame_size"] == [1920, 1080]
    assert result["nonmated_sets"] == ["utkface-dev"] and result["exclusions"] == "walkby-nonmated"
    assert result["label_fixes"] == "recognition/evaluation/label_fixes/lfw-dev.json" and result["excluded"] == 1
    assert (result["gallery_size"], result["mated_passersby"], result["nonmated_passersby"]) == (2500, 150, 450)
    assert result["decision"] is None and result["command"] == "manage.py evaluate_live --x 'a b'"
    assert [p["threshold"] for p in result["curve"]] == [0.40, 0.45, 0.50]  # lowest first
    at_045 = result["curve"][1]
    assert at_045["per_1000"] == pytest.approx(1000 * 3 / 450)
    assert at_045["upper95_per_1000"] == pytest.approx(1000 * fpir_upper_bound(3, 450))
    assert at_045["groups"] == GROUPS_045  # the per-group counts travel unchanged
    # 0 of 450 is "at most", not "never"
    assert result["curve"][2]["per_1000"] == 0 and result["curve"][2]["upper95_per_1000"] == pytest.approx(6.64, abs=0.01)
    assert calibration(device_defaults=None)["device"] == "cpu"  # no override: the device that ran it


def test_a_report_of_an_unknown_device_is_refused():
    with pytest.raises(ValueError, match="unknown device"):
        calibration(device_defaults="tpu")


def test_the_json_file_reads_back_as_written(tmp_path, monkeypatch):
    written = calibration()
    text = walkby_calibration_json(written)
    assert text.count("\n") > len(written["curve"])  # one line per point, readable in a diff
    monkeypatch.setattr(calibration_module, "PACKAGED", tmp_path)
    (tmp_path / "m-000000000001.walkby-cuda.json").write_text(text)
    assert packaged_walkby_calibration("m-000000000001", "cuda") == json.loads(text) == written
    assert packaged_walkby_calibration("m-000000000001", "cpu") is None  # another device has no file


def test_a_packaged_walk_by_file_cannot_be_named_outside_the_folder_or_for_another_device(tmp_path, monkeypatch):
    inside = tmp_path / "calibrations"
    inside.mkdir()
    (tmp_path / "secret.walkby-cpu.json").write_text("{}")
    monkeypatch.setattr(calibration_module, "PACKAGED", inside)
    assert packaged_walkby_calibration("../secret", "cpu") is None
    assert packaged_walkby_calibration("m", "../../x") is None


def test_between_curve_points_false_alerts_are_read_below_and_hits_above():
    result = walkby_expectation_at(calibration(), model_id="m", device="cuda", threshold=0.43, source="stored",
                                   calibration_id=7)
    assert result.known and result.fpir_from == 0.40 and result.false_alerts == 6 and result.nonmated == 450
    assert result.per_1000 == pytest.approx(1000 * 6 / 450)
    assert result.upper95_per_1000 == pytest.approx(1000 * fpir_upper_bound(6, 450))
    assert result.tpir_from == 0.45 and result.tpir == pytest.approx(120 / 150) and result.tpir_percent == pytest.approx(80)
    # the groups are read at the same point as the false alerts: the higher rates
    assert result.group_counts == GROUPS_040
    infants = result.groups["age_band"]["groups"]["0-2"]
    assert infants["per_1000"] == pytest.approx(200) and infants["interval95_per_1000"][0] > 50
    assert result.groups["sex"]["largest_ratio"]["ratio"] == pytest.approx((4 / 220) / (2 / 230))
    assert result.groups["age_band"]["largest_ratio"]["ratio"] is None  # 0 of 420 adults: only bounded
    tables = {t["grouping"]: t for t in result.group_tables}
    assert [row["group"] for row in tables["age_band"]["rows"]] == ["0-2", "20-39"]


def test_outside_the_curve_and_without_a_calibration_the_rate_is_unknown():
    below = walkby_expectation_at(calibration(), model_id="m", device="cpu", threshold=0.30)
    assert not below.known and below.per_1000 is None and below.tpir == pytest.approx(134 / 150)
    none = walkby_expectation_at(None, model_id="m", device="cpu", threshold=0.45)
    assert none.source is None and not none.known and none.group_tables == []
    assert none.as_record() == {"kind": "walkby", "model_id": "m", "device": "cpu", "threshold": 0.45,
                                "source": None, "note": "no walk-by calibration for model m on cpu: the false "
                                                        "alert rate per passer-by at this threshold is unknown"}


def test_the_record_holds_the_figure_the_groups_and_the_reference():
    record = walkby_expectation_at(calibration(), model_id="m", device="cuda", threshold=0.45, source="stored",
                                   calibration_id=3).as_record()
    assert record["per_1000"] == pytest.approx(1000 * 3 / 450) and record["false_alerts"] == 3
    assert record["tpir"] == pytest.approx(0.8) and record["calibration_id"] == 3 and record["device"] == "cuda"
    assert record["group_counts"] == GROUPS_045
    assert record["largest_ratios"]["sex"]["ratio"] == pytest.approx((2 / 220) / (1 / 230))
    assert record["reference"]["nonmated_passersby"] == 450 and record["reference"]["det_size"] == [960, 544]
    json.dumps(record)  # goes into an audit event as it is


def test_the_key_names_model_device_source_and_threshold():
    a = walkby_expectation_at(calibration(), model_id="m", device="cpu", threshold=0.45, source="stored", calibration_id=1)
    assert a.key != walkby_expectation_at(calibration(), model_id="m", device="cpu", threshold=0.45, source="stored",
                                          calibration_id=2).key
    assert a.key != walkby_expectation_at(calibration(), model_id="m", device="cuda", threshold=0.45, source="stored",
                                          calibration_id=1).key


def test_a_maximum_ratio_refuses_a_resolved_ratio_above_it_naming_grouping_groups_and_ratio():
    at_040 = walkby_expectation_at(calibration(), model_id="m", device="cpu", threshold=0.40)
    sex_ratio = (4 / 220) / (2 / 230)  # 2.09
    reasons = group_ratio_refusals(at_040, 2.0)
    sex = [r for r in reasons if "between sex groups" in r]
    assert len(sex) == 1 and f"by {sex_ratio:.1f} times" in sex[0] and "female: 18.2 per 1,000" in sex[0]
    assert "male: 8.7 per 1,000" in sex[0] and "maximum ratio of 2" in sex[0]
    assert not [r for r in group_ratio_refusals(at_040, 2.5) if "sex" in r]  # 2.09 is within 2.5
    assert group_ratio_refusals(at_040, None) == []  # off


def test_an_unresolved_ratio_refuses_when_its_lower_bound_exceeds_the_maximum():
    at_040 = walkby_expectation_at(calibration(), model_id="m", device="cpu", threshold=0.40)
    ratio = at_040.groups["age_band"]["largest_ratio"]
    bound = 200 / at_040.groups["age_band"]["groups"]["20-39"]["upper95_per_1000"]  # 200 per 1,000 over 0 of 420's bound
    assert ratio["ratio"] is None and ratio["lower_bound"] == pytest.approx(bound)
    age = [r for r in group_ratio_refusals(at_040, bound - 1) if "age_band" in r]
    assert len(age) == 1 and f"at least {bound:.1f} times" in age[0] and "20-39: 0 of 420" in age[0]
    assert "not resolved" in age[0]
    assert not [r for r in group_ratio_refusals(at_040, bound + 1) if "age_band" in r]


def test_no_false_alert_in_any_group_never_refuses():
    at_050 = walkby_expectation_at(calibration(), model_id="m", device="cpu", threshold=0.50)
    assert at_050.groups is None and group_ratio_refusals(at_050, 1.0) == []
    flat = {"sex": {"female": [0, 200], "male": [0, 200]}}
    cal = calibration(curve=[curve_point(0.5, false_alerts=0, true_alerts=1, groups=flat)])
    assert group_ratio_refusals(walkby_expectation_at(cal, model_id="m", device="cpu", threshold=0.5), 1.0) == []
