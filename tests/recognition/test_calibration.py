"""Threshold calibration: reading a curve conservatively, the packaged default, stored calibrations."""

import math

import numpy as np
import pytest

from audit.models import AuditEvent
from core.errors import RuleViolation
from recognition.calibration import model_calibration_store, threshold_expectation, threshold_expectation_table
from recognition.evaluation import metrics
from recognition.evaluation.calibration import (
    CALIBRATION_THRESHOLDS,
    calibration_curve,
    expectation_at,
    fpir_upper_bound,
    packaged_calibration,
)
from recognition.runtime import current_model_id


def point(threshold, false_alerts, true_alerts, *, nonmated=1000, mated=500):
    return {"threshold": threshold, "false_alerts": false_alerts, "fpir": false_alerts / nonmated,
            "fpir_upper": fpir_upper_bound(false_alerts, nonmated), "true_alerts": true_alerts,
            "tpir": true_alerts / mated}


def calibration(model_id="test_model-000000000001", curve=None, **overrides) -> dict:
    return {"model_id": model_id, "dataset": "synthetic", "probes": "cctv", "label_fixes": None, "flip": False,
            "seed": 0, "gallery_size": 200, "mated_searches": 500, "nonmated_searches": 1000,
            "measured_on": "2026-01-05", "command": "manage.py evaluate_watchlist --dataset synthetic",
            "curve": curve if curve is not None else [point(0.40, 30, 480), point(0.45, 12, 450), point(0.50, 3, 400)],
            } | overrides


def test_between_two_curve_points_the_higher_false_alert_rate_and_the_lower_hit_rate_are_read():
    expected = expectation_at(calibration(), model_id="m", threshold=0.47)
    assert expected.fpir == pytest.approx(0.012) and expected.fpir_from == 0.45  # not 0.003 at 0.50
    assert expected.tpir == pytest.approx(0.8) and expected.tpir_from == 0.50  # not 0.9 at 0.45
    assert expected.per_1000 == pytest.approx(12.0) and expected.false_alerts == 12
    on_point = expectation_at(calibration(), model_id="m", threshold=0.45)
    assert (on_point.fpir, on_point.tpir) == (pytest.approx(0.012), pytest.approx(0.9))


def test_outside_the_measured_range_a_rate_that_cannot_be_bounded_is_unknown():
    below = expectation_at(calibration(), model_id="m", threshold=0.30)
    assert below.fpir is None and not below.known and below.tpir == pytest.approx(0.96)
    above = expectation_at(calibration(), model_id="m", threshold=0.70)
    assert above.fpir == pytest.approx(0.003) and above.known and above.tpir is None


def test_the_grid_reading_never_understates_false_alerts_or_overstates_hits():
    rng = np.random.default_rng(7)
    nonmated = rng.normal(0.15, 0.1, 3000)
    mated = rng.normal(0.55, 0.12, 1500)
    correct = rng.random(1500) > 0.02
    coarse = {"curve": calibration_curve(mated, correct, nonmated, thresholds=np.arange(0.0, 1.0001, 0.05))}
    for threshold in rng.uniform(0.0, 1.0, 200):
        expected = expectation_at(coarse, model_id="m", threshold=threshold)
        assert expected.fpir >= metrics.fpir(nonmated, threshold)
        if expected.tpir is not None:
            assert expected.tpir <= metrics.tpir(mated, correct, threshold)


def test_the_upper_bound_is_the_95_percent_clopper_pearson_bound():
    assert fpir_upper_bound(0, 1810) == pytest.approx(1 - 0.05 ** (1 / 1810))  # about 3 / n
    for false_alerts, searches in [(1, 1810), (18, 1810), (5, 10)]:
        bound = fpir_upper_bound(false_alerts, searches)
        tail = sum(math.comb(searches, k) * bound**k * (1 - bound) ** (searches - k) for k in range(false_alerts + 1))
        assert bound > false_alerts / searches and tail == pytest.approx(0.05, abs=1e-6)
    assert fpir_upper_bound(10, 10) == 1.0


@pytest.mark.django_db
def test_without_a_calibration_the_expectation_says_so():
    expected = threshold_expectation(model_id="other_model-123456789abc", threshold=0.45)
    assert expected.source is None and not expected.known and expected.per_1000 is None
    assert expected.as_record()["note"] == ("no calibration for model other_model-123456789abc: the false alert rate "
                                            "at this threshold is unknown")
    assert threshold_expectation_table(model_id="other_model-123456789abc", threshold=0.45)["rows"] == []


@pytest.mark.django_db
def test_the_shipped_model_has_a_packaged_calibration_that_needs_no_data_set():
    model_id = current_model_id()
    packaged = packaged_calibration(model_id)
    assert packaged is not None and packaged["model_id"] == model_id
    thresholds = [p["threshold"] for p in packaged["curve"]]
    assert thresholds == list(CALIBRATION_THRESHOLDS)  # every threshold the form accepts is on the curve
    assert all(p["fpir"] == p["false_alerts"] / packaged["nonmated_searches"]
               for p in packaged["curve"])
    fpirs = [p["fpir"] for p in packaged["curve"]]
    assert fpirs == sorted(fpirs, reverse=True)
    expected = threshold_expectation(model_id=model_id, threshold=0.45)
    at_045 = packaged["curve"][45]
    assert expected.source == "packaged" and expected.false_alerts == at_045["false_alerts"]
    assert expected.calibration["nonmated_searches"] == packaged["nonmated_searches"]


def test_a_model_id_cannot_name_a_file_outside_the_packaged_calibrations():
    assert packaged_calibration("../label_fixes/lfw-dev") is None


@pytest.mark.django_db
def test_a_stored_calibration_replaces_the_packaged_one_and_the_newest_wins():
    model_id = current_model_id()
    model_calibration_store(actor=None, calibration=calibration(model_id=model_id))
    newer = model_calibration_store(actor=None, calibration=calibration(
        model_id=model_id, curve=[point(0.40, 50, 490), point(0.45, 20, 460), point(0.50, 5, 410)]))
    expected = threshold_expectation(model_id=model_id, threshold=0.45)
    assert expected.source == "stored" and expected.calibration_id == newer.pk
    assert expected.per_1000 == pytest.approx(20.0) and expected.calibration["dataset"] == "synthetic"


@pytest.mark.django_db
def test_storing_a_calibration_is_audited_and_incomplete_curves_are_refused(commander):
    record = model_calibration_store(actor=commander, calibration=calibration())
    event = AuditEvent.objects.get(action="calibration.stored")
    assert event.actor == commander and event.target_id == str(record.pk)
    assert event.details["model_id"] == "test_model-000000000001" and event.details["nonmated_searches"] == 1000
    assert event.details["command"] == "manage.py evaluate_watchlist --dataset synthetic"
    with pytest.raises(RuleViolation, match="curve points"):
        model_calibration_store(actor=None, calibration=calibration(curve=[{"threshold": 0.4}]))
    with pytest.raises(RuleViolation, match="non-mated"):
        model_calibration_store(actor=None, calibration=calibration(nonmated_searches=0))
    assert AuditEvent.objects.filter(action="calibration.stored").count() == 1
