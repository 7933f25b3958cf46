"""A deployment's statistics set the false alerts per passer-by expected at authorisation (walk-by calibration)
against those observed per track, and the false alerts' recorded demographics against the expected spread."""

import csv
import io

import pytest
from django.urls import reverse

from recognition.evaluation.groups import REFERENCE_TO_OFFICER
from recognition.runtime import current_model_id
from reports.selectors import deployment_statistics
from tests.factories import stored_walkby_calibration
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db
WHEN = at(2025, 3, 4, 10)


@pytest.fixture
def calibrated(settings):
    """At 0.45 (the deployments' threshold): 6 of 450 passers-by; race Asian 4 of 90, White 2 of 270, Black 0 of
    90; sex female 4 of 225, male 2 of 225."""
    settings.RECOGNITION_DEVICE = "cpu"
    settings.STATISTICS_POPULATION_MIX = None
    return stored_walkby_calibration(current_model_id(), "cpu")


@pytest.fixture
def live(make_live, count_faces):
    def make(name="Market Day"):
        deployment = make_live(name, at(2025, 3, 4, 9), at(2025, 3, 4, 12))
        count_faces(deployment, at(2025, 3, 4, 9, 1), 40_000, tracks=1500)
        count_faces(deployment, at(2025, 3, 4, 9, 1), 10_000, tracks=500)  # a second flush in the same minute
        return deployment
    return make


def false_alerts(raise_at, deployment, codes):
    for ethnicity, sex in codes:
        raise_at(deployment, WHEN, "not_a_match", demographics={"ethnicity": ethnicity, "perceived_sex": sex})


def test_expected_per_passer_by_beside_observed_per_track(oversight, calibrated, live, raise_at):
    deployment = live()
    false_alerts(raise_at, deployment, [("IC5", "female")] * 3)
    raise_at(deployment, WHEN, "confirmed")
    stats = deployment_statistics(user=oversight, deployment_id=deployment.pk)
    assert stats.deployment.expected_per_1000_passersby == pytest.approx(1000 * 6 / 450)
    assert stats.deployment.expected_per_1000_passersby_upper > stats.deployment.expected_per_1000_passersby
    assert stats.deployment.expected_device == "cpu"
    assert stats.figures.tracks == 2000 and stats.figures.faces == 50_000
    assert stats.figures.false_alerts_per_1000_tracks == pytest.approx(3 * 1000 / 2000)
    assert stats.figures.false_alerts_per_1000_faces == pytest.approx(3 * 1000 / 50_000)


def test_the_recorded_ethnicity_is_set_against_the_spread_the_calibration_predicts(oversight, calibrated, live,
                                                                                  raise_at):
    deployment = live()
    # all six on people recorded as White (IC1 or IC2), where the calibration expects a third of them
    false_alerts(raise_at, deployment, [("IC1", "male")] * 4 + [("IC2", "female")] * 2 + [("IC9", "male")])
    comparison = {c.field: c for c in deployment_statistics(user=oversight, deployment_id=deployment.pk)
                  .demographic_comparison}
    race = comparison["ethnicity"]
    rows = {row.group: row for row in race.rows}
    assert rows["White"].codes == ("IC1", "IC2") and rows["White"].observed == 6
    assert rows["White"].expected_share == pytest.approx(1 / 3) and rows["Asian"].expected_share == pytest.approx(2 / 3)
    assert rows["Black"].expected_share == 0 and rows["Indian"].expected_share is None  # not in the reference set
    assert race.compared == 6 and race.not_comparable == 1  # IC9 is left out
    assert race.method == "exact multinomial" and race.p_value == pytest.approx((1 / 3) ** 6)
    assert "like the reference set" in race.assumption
    sex = comparison["perceived_sex"]
    assert {r.group: r.observed for r in sex.rows} == {"male": 5, "female": 2}
    assert "age_band" not in comparison  # the calibration has no officer age bands


def test_a_spread_like_the_expected_one_is_not_flagged_and_too_few_are_not_tested(oversight, calibrated, live,
                                                                                  raise_at):
    deployment = live()
    false_alerts(raise_at, deployment, [("IC5", "female")] * 4 + [("IC1", "male")] * 2)
    race = next(c for c in deployment_statistics(user=oversight, deployment_id=deployment.pk).demographic_comparison
                if c.field == "ethnicity")
    assert race.p_value == pytest.approx(1.0)
    other = live("Quiet Day")
    false_alerts(raise_at, other, [("IC3", "male")] * 2)
    few = next(c for c in deployment_statistics(user=oversight, deployment_id=other.pk).demographic_comparison
               if c.field == "ethnicity")
    assert few.p_value is None and few.note == "too few false alerts to test (2; at least 5 needed)"


def test_a_local_mix_of_passers_by_changes_the_expected_shares(settings, oversight, calibrated, live, raise_at):
    settings.STATISTICS_POPULATION_MIX = {"race": {"Asian": 0.1, "White": 0.9}}
    deployment = live()
    race = next(c for c in deployment_statistics(user=oversight, deployment_id=deployment.pk).demographic_comparison
                if c.field == "ethnicity")
    rows = {row.group: row for row in race.rows}
    # 0.1 x 4/90 against 0.9 x 2/270
    assert rows["Asian"].expected_share == pytest.approx(0.4) and rows["White"].expected_share == pytest.approx(0.6)
    assert "STATISTICS_POPULATION_MIX" in race.assumption


def test_without_a_walk_by_calibration_at_authorisation_there_is_nothing_to_compare(oversight, live, raise_at,
                                                                                  settings,
                                                                                  no_packaged_walkby_calibration):
    settings.RECOGNITION_DEVICE = "cpu"
    deployment = live()
    false_alerts(raise_at, deployment, [("IC1", "male")] * 6)
    stats = deployment_statistics(user=oversight, deployment_id=deployment.pk)
    assert stats.demographic_comparison == () and stats.deployment.expected_per_1000_passersby is None
    assert stats.figures.false_alerts_per_1000_tracks == pytest.approx(3.0)


def test_the_page_api_and_csv_carry_them(client_as, api_as, commander, calibrated, live, raise_at):
    deployment = live()
    false_alerts(raise_at, deployment, [("IC1", "male")] * 6)
    text = client_as(commander).get(reverse("reports:deployment", args=[deployment.pk])).content.decode()
    assert "expected 13.333 (1 in 75)" in text and "observed 3.000 (1 in 333) (6 false alerts over 2,000 tracks" in text
    table = text[text.index('data-testid="spread-ethnicity"'):]
    assert "<td class=\"num\">33.3%</td><td class=\"num\">6</td><td class=\"num\">100.0%</td>" in table
    assert "6 false alerts compared: p = 0.001 (exact multinomial)" in text
    body = api_as(commander).get(reverse("api:report-deployment", args=[deployment.pk])).json()
    assert body["figures"]["tracks"] == 2000 and body["figures"]["false_alerts_per_1000_tracks"] == 3.0
    assert body["deployment"]["expected_false_alerts_per_1000_passersby"] == pytest.approx(1000 * 6 / 450)
    ethnicity = next(c for c in body["demographic_comparison"] if c["field"] == "ethnicity")
    assert ethnicity["p_value"] == pytest.approx((1 / 3) ** 6) and ethnicity["grouping"] == "race"
    [row] = csv.DictReader(io.StringIO(client_as(commander).get(
        reverse("reports:deployment_csv", args=[deployment.pk])).content.decode()))
    assert row["tracks"] == "2000" and row["false_alerts_per_1000_tracks"] == "3.0000"
    assert row["expected_false_alerts_per_1000_passersby"] == "13.3333"


def test_the_mapping_names_only_codes_officers_can_record():
    from alerts.demographics import DEMOGRAPHIC_FIELDS

    for field, (_, mapping) in REFERENCE_TO_OFFICER.items():
        choices = DEMOGRAPHIC_FIELDS[field][0]
        assert {code for codes in mapping.values() for code in codes} <= set(choices.values) - {"IC9", "unknown"}
    # every officer-defined ethnicity but "unknown" has a reference group
    mapped = {code for codes in REFERENCE_TO_OFFICER["ethnicity"][1].values() for code in codes}
    assert mapped == set(DEMOGRAPHIC_FIELDS["ethnicity"][0].values) - {"IC9"}
