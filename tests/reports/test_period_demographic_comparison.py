"""A period's report sets the false alerts' recorded demographics of all its deployments against the spread
expected over them: each deployment's expected shares at its own authorised threshold, weighted by its tracks."""

import csv
import io

import pytest
from django.urls import reverse

from recognition.evaluation.groups import spread_test
from recognition.runtime import current_model_id
from reports.selectors import month_period, period_statistics
from tests.factories import stored_walkby_calibration
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db
WHEN = at(2025, 3, 4, 10)
# Expected shares of female false alerts in the calibration (tests.factories.walkby_calibration): 4 of 6 at
# 0.45, 1 of 2 at 0.50; so over 3,000 tracks at 0.45 and 1,000 at 0.50: (3000 x 2/3 + 1000 x 1/2) / 4000.
POOLED_FEMALE = (3000 * 2 / 3 + 1000 * 1 / 2) / 4000


@pytest.fixture
def two_thresholds(settings, make_live, count_faces, raise_at):
    """Market Day at 0.45 (3,000 tracks; four false alerts on women), Quiet Day at 0.50 (1,000 tracks; two on
    men, one recorded as IC1). The calibration has race figures at 0.45 only."""
    settings.RECOGNITION_DEVICE = "cpu"
    settings.STATISTICS_POPULATION_MIX = None
    stored_walkby_calibration(current_model_id(), "cpu")
    market = make_live("Market Day", at(2025, 3, 4, 9), at(2025, 3, 4, 12), threshold=0.45)
    quiet = make_live("Quiet Day", at(2025, 3, 11, 9), at(2025, 3, 11, 12), threshold=0.50)
    count_faces(market, at(2025, 3, 4, 9, 1), 30_000, tracks=3000)
    count_faces(quiet, at(2025, 3, 11, 9, 1), 10_000, tracks=1000)
    for _ in range(4):
        raise_at(market, WHEN, "not_a_match", demographics={"perceived_sex": "female", "ethnicity": "IC5"})
    raise_at(quiet, at(2025, 3, 11, 10), "not_a_match", demographics={"perceived_sex": "male", "ethnicity": "IC1"})
    raise_at(quiet, at(2025, 3, 11, 10), "not_a_match", demographics={"perceived_sex": "male"})
    return market, quiet


def march(user):
    start, end, title = month_period(2025, 3)
    return period_statistics(user=user, start=start, end=end, title=title)


def test_the_expected_spread_is_pooled_over_the_deployments_by_their_tracks(oversight, two_thresholds):
    report = march(oversight)
    sex = next(c for c in report.demographic_comparison if c.field == "perceived_sex")
    rows = {row.group: row for row in sex.rows}
    assert rows["female"].expected_share == pytest.approx(POOLED_FEMALE)
    assert rows["male"].expected_share == pytest.approx(1 - POOLED_FEMALE)
    assert (rows["female"].observed, rows["male"].observed, sex.compared) == (4, 2, 6)
    expected = spread_test({"female": 4, "male": 2}, {"female": POOLED_FEMALE, "male": 1 - POOLED_FEMALE})
    assert sex.method == "exact multinomial" and sex.p_value == pytest.approx(expected["p_value"])
    assert "over 2 deployments each at its authorised threshold, weighted by its tracks" in sex.assumption
    # each deployment's row keeps its own comparison, at its own threshold
    market, quiet = report.deployments
    market_sex = next(c for c in market.demographic_comparison if c.field == "perceived_sex")
    assert {r.group: r.expected_share for r in market_sex.rows}["female"] == pytest.approx(2 / 3)


def test_false_alerts_of_a_deployment_without_per_group_figures_are_counted_apart(oversight, two_thresholds):
    race = next(c for c in march(oversight).demographic_comparison if c.field == "ethnicity")
    assert race.compared == 4 and race.uncalibrated == 2  # Quiet Day's threshold has no race figures
    assert {row.group: row.observed for row in race.rows}["Asian"] == 4
    assert race.p_value is None and race.note == "too few false alerts to test (4; at least 5 needed)"


def test_the_period_page_api_and_csv_carry_it(client_as, api_as, oversight, two_thresholds):
    text = client_as(oversight).get(reverse("reports:month", args=[2025, 3])).content.decode()
    table = text[text.index('data-testid="spread-perceived_sex"'):]
    assert f'<td class="num">{100 * POOLED_FEMALE:.1f}%</td><td class="num">4</td>' in table
    assert "2 from deployments authorised without per-group figures, not compared" in text
    body = api_as(oversight).get(reverse("api:report-month", args=[2025, 3])).json()
    sex = next(c for c in body["demographic_comparison"] if c["field"] == "perceived_sex")
    assert sex["rows"][1]["group"] == "female" and sex["rows"][1]["expected_share"] == pytest.approx(POOLED_FEMALE)
    rows = list(csv.DictReader(io.StringIO(client_as(oversight).get(
        reverse("reports:month_csv", args=[2025, 3])).content.decode())))
    market, quiet, totals = rows
    assert totals["expected_share_perceived_sex_female"] == f"{POOLED_FEMALE:.4f}"
    assert market["expected_share_perceived_sex_female"] == f"{2 / 3:.4f}"
    assert quiet["expected_share_ethnicity_Asian"] == "" and quiet["expected_share_perceived_sex_male"] == "0.5000"
