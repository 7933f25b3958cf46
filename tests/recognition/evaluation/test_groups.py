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


def test_officer_age_bands_follow_the_codes_officers_record():
    from recognition.evaluation.groups import officer_age_band

    assert [officer_age_band(a) for a in (0, 17, 18, 24, 25, 34, 35, 49, 50, 64, 65, 116)] == [
        "under_18", "under_18", "18_24", "18_24", "25_34", "25_34", "35_49", "35_49", "50_64", "50_64", "65_plus",
        "65_plus"]


def test_labels_with_the_officer_band_give_that_grouping_and_older_labels_do_not():
    flags = [True, False, False]
    labelled = [{"race": "White", "sex": "male", "age_band": "0-2", "officer_age_band": "under_18"},
                {"race": "White", "sex": "male", "age_band": "20-39", "officer_age_band": "25_34"},
                {"race": "Black", "sex": "female", "age_band": "20-39", "officer_age_band": "25_34"}]
    result = false_alerts_by_group(flags, labelled)
    assert result["officer_age_band"]["groups"]["under_18"]["false_alerts"] == 1
    old = false_alerts_by_group(flags, [{k: v for k, v in g.items() if k != "officer_age_band"} for g in labelled])
    assert set(old) == {"race", "sex", "age_band", "race x sex"}  # the shape the reports had before


def test_the_expected_share_of_false_alerts_weights_each_groups_rate_by_the_mix():
    from recognition.evaluation.groups import expected_shares

    counts = {"a": [3, 100], "b": [1, 300]}  # rates 3% and 0.33%
    # the reference set's own mix: the shares of its false alerts
    assert expected_shares(counts) == pytest.approx({"a": 0.75, "b": 0.25})
    # passers-by half and half: 0.03 against 0.00333
    assert expected_shares(counts, {"a": 0.5, "b": 0.5}) == pytest.approx({"a": 0.9, "b": 0.1})
    assert expected_shares({"a": [0, 100], "b": [0, 50]}) is None


def test_the_spread_test_is_exact_for_few_false_alerts_and_says_when_it_cannot_test():
    from recognition.evaluation.groups import spread_test

    fair = {"a": 0.5, "b": 0.5}
    assert spread_test({"a": 5, "b": 5}, fair)["p_value"] == pytest.approx(1.0)
    # 10 of 10 in one of two equally likely groups: 2 * 0.5**10
    lopsided = spread_test({"a": 10, "b": 0}, fair)
    assert lopsided["method"] == "exact multinomial" and lopsided["p_value"] == pytest.approx(2 / 1024)
    few = spread_test({"a": 3, "b": 1}, fair)
    assert few["p_value"] is None and few["note"] == "too few false alerts to test (4; at least 5 needed)"
    unexpected = spread_test({"a": 4, "b": 2}, {"a": 1.0, "b": 0.0})
    assert unexpected["p_value"] is None and "false alerts in b, where the reference set had none" in unexpected["note"]
    assert "no expected spread" in spread_test({"a": 6}, None)["note"]


def test_many_false_alerts_use_chi_square_and_agree_with_its_known_values():
    from recognition.evaluation.groups import _chi_square_sf, spread_test

    assert _chi_square_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-6)
    assert _chi_square_sf(11.070497693516351, 5) == pytest.approx(0.05, rel=1e-6)
    assert _chi_square_sf(0.5, 4) == pytest.approx(0.973500699, rel=1e-6)
    shares = dict.fromkeys("abcde", 0.2)
    result = spread_test({"a": 60, "b": 40, "c": 40, "d": 30, "e": 30}, shares)  # too many outcomes to list
    assert result["method"] == "chi-square" and result["statistic"] == pytest.approx(15.0)  # (400 + 100 + 100) / 40
    assert result["p_value"] == pytest.approx(0.004701, rel=1e-3)  # chi-square(4) tail at 15


def test_the_exact_and_chi_square_tests_agree_roughly_where_both_apply():
    from recognition.evaluation.groups import _chi_square_sf, spread_test

    exact = spread_test({"a": 30, "b": 10}, {"a": 0.5, "b": 0.5})["p_value"]
    assert exact == pytest.approx(_chi_square_sf(10.0, 1), rel=0.5)  # 0.0022 exact against 0.0016


def test_an_unresolved_ratio_carries_its_lower_bound():
    rows = {"x": per_1000(3, 1000), "y": per_1000(0, 500)}
    ratio = largest_ratio(rows)
    assert ratio["lower_bound"] == pytest.approx(3.0 / rows["y"]["upper95_per_1000"])
