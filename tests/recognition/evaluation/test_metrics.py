import math

import numpy as np
import pytest

from recognition.evaluation import metrics


def test_rank1_tpir_fpir_on_known_arrays():
    mated_scores = [0.9, 0.5, 0.3, -np.inf]  # the last probe had no face
    mated_correct = [True, True, False, False]
    nonmated = [0.1, 0.45, 0.2, 0.31]
    assert metrics.rank1(mated_correct) == 0.5
    assert metrics.tpir(mated_scores, mated_correct, 0.4) == 0.5
    assert metrics.tpir(mated_scores, mated_correct, 0.6) == 0.25
    # A wrong rank-1 candidate never counts, however high it scores.
    assert metrics.tpir(mated_scores, mated_correct, 0.0) == 0.5
    assert metrics.fpir(nonmated, 0.3) == 0.5
    assert metrics.fpir(nonmated, 0.45) == 0.25  # score >= threshold alerts
    assert metrics.fpir(nonmated, 0.46) == 0.0


def test_threshold_at_fpir_is_the_smallest_threshold_meeting_the_target():
    nonmated = np.linspace(0.0, 0.999, 1000)  # 1000 distinct scores, highest 0.999
    t = metrics.threshold_at_fpir(nonmated, 1e-2)  # 10 false alerts allowed: just above the 11th highest
    assert 0.989 < t < 0.9891 and metrics.fpir(nonmated, t) == 0.01
    assert metrics.fpir(nonmated, np.nextafter(0.989, -1)) > 0.01
    t3 = metrics.threshold_at_fpir(nonmated, 1e-3)
    assert metrics.fpir(nonmated, t3) == 0.001 and 0.998 < t3 < 0.9981
    # Fewer probes than 1/target: no false alert allowed, the threshold sits just above the top score.
    assert metrics.threshold_at_fpir([0.2, 0.7, 0.5], 1e-2) == np.nextafter(0.7, 1)
    # Ties: both tied probes are excluded rather than FPIR exceeding the target.
    assert metrics.fpir([0.8, 0.8, 0.1, 0.1], metrics.threshold_at_fpir([0.8, 0.8, 0.1, 0.1], 0.25)) == 0.0
    # Non-mated probes with no face cannot alert at any threshold.
    assert metrics.threshold_at_fpir([-np.inf] * 10, 1e-2) == -math.inf


def test_tpir_at_fpir_and_summary_keys():
    rng = np.random.default_rng(0)
    mated = rng.normal(0.7, 0.1, 2000)
    correct = np.ones(2000, bool)
    correct[:20] = False
    nonmated = rng.normal(0.1, 0.08, 5000)
    point = metrics.tpir_at_fpir(mated, correct, nonmated, 1e-3)
    assert point.false_alerts <= 5 and point.fpir <= 1e-3
    assert point.tpir == metrics.tpir(mated, correct, point.threshold)
    summary = metrics.summarise(mated, correct, nonmated)
    assert set(summary["tpir_at_fpir"]) == {"1e-2", "1e-3"}
    assert list(summary["at_threshold"]) == ["0.30", "0.35", "0.40", "0.45", "0.50", "0.55", "0.60"]
    assert summary["rank1"] == 0.99
    assert summary["at_threshold"]["0.40"]["tpir"] == metrics.tpir(mated, correct, 0.40)


def test_det_curve_is_monotone_and_matches_point_metrics():
    mated = [0.9, 0.8, 0.6, 0.3, 0.7]
    correct = [True, True, True, True, False]
    nonmated = [0.85, 0.5, 0.2, 0.1]
    curve = metrics.det_curve(mated, correct, nonmated)
    assert np.all(np.diff(curve.thresholds) < 0)
    assert np.all(np.diff(curve.fpir) >= 0) and np.all(np.diff(curve.fnir) <= 0)
    for t, fp, fn in zip(curve.thresholds, curve.fpir, curve.fnir, strict=True):
        assert fp == metrics.fpir(nonmated, t)
        assert fn == pytest.approx(1 - metrics.tpir(mated, correct, t))
    assert curve.fnir[-1] == pytest.approx(0.2)  # the wrong rank-1 probe is never found


def test_empty_inputs():
    assert math.isnan(metrics.rank1([]))
    with pytest.raises(ValueError):
        metrics.threshold_at_fpir([], 1e-2)


def test_proportion_interval_is_exact_and_never_rounds_to_zero():
    from recognition.evaluation.metrics import proportion_interval, proportion_upper_bound

    low, high = proportion_interval(0, 1000)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 1000), rel=1e-6)
    assert proportion_upper_bound(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-6)  # ~3/n
    low, high = proportion_interval(1000, 1000)
    assert high == 1.0 and low == pytest.approx(0.025 ** (1 / 1000), rel=1e-6)
    # Clopper-Pearson for 5 of 20 (reference values from the beta quantiles).
    low, high = proportion_interval(5, 20)
    assert low == pytest.approx(0.0866, abs=1e-4) and high == pytest.approx(0.4910, abs=1e-4)
    with pytest.raises(ValueError):
        proportion_interval(3, 2)
