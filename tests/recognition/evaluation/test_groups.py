"""False alerts per group: counts, exact intervals, and the largest ratio or why it is unresolved."""

import pytest

from recognition.evaluation.groups import age_band, false_alerts_by_group, largest_ratio, per_1000


def _people(race, sex, age, n, alerts):
    return [True] * alerts + [False] * (n - alerts), [{"race": race, "sex": sex, "age_band": age}] * n


def test_rates_per_group_and_race_by_sex():
    a_flags, a_groups = _people("Black", "male", "20-39", 400, 2)
    b_flags, b_groups = _people("White", "female", "20-39", 1000, 1)
    result = false_alerts_by_group(a_flags + b_flags + [True], a_groups + b_groups + [None])  # unlabelled: left out
    race = result["race"]["groups"]
    assert race["Black"]["false_alerts"] == 2 and race["Black"]["per_1000"] == pytest.approx(5.0)
    assert race["White"]["per_1000"] == pytest.approx(1.0)
    low, high = race["White"]["interval95_per_1000"]
    assert low < 1.0 < high
    assert result["race"]["largest_ratio"]["ratio"] == pytest.approx(5.0)
    assert result["race"]["largest_ratio"]["highest"] == "Black"
    assert set(result["race x sex"]["groups"]) == {"Black x male", "White x female"}
    assert result["age_band"]["largest_ratio"]["note"] == "fewer than two groups"


def test_a_group_with_no_false_alert_only_bounds_the_ratio():
    rows = {"x": per_1000(3, 1000), "y": per_1000(0, 500)}
    ratio = largest_ratio(rows)
    assert ratio["ratio"] is None and ratio["lowest"] == "y" and "not resolved" in ratio["note"]
    assert rows["y"]["upper95_per_1000"] == pytest.approx(1000 * (1 - 0.05 ** (1 / 500)), rel=1e-6)
    assert largest_ratio({"x": per_1000(0, 10), "y": per_1000(0, 10)})["ratio"] is None


def test_age_bands():
    assert [age_band(a) for a in (0, 2, 3, 19, 20, 59, 60, 116)] == ["0-2", "0-2", "3-9", "10-19", "20-39", "40-59",
                                                                     "60+", "60+"]


def test_no_labels_says_so():
    assert "no non-mated set with group labels" in false_alerts_by_group([True], [None])["note"]
