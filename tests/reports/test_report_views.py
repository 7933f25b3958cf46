import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from reports.services import TOTALS_LABEL
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def march(make_live, raise_at, count_faces):
    first = make_live("Harbour Festival", at(2025, 3, 3, 9), at(2025, 3, 3, 17))
    second = make_live("Station Approach", at(2025, 3, 20, 8), at(2025, 3, 20, 10))
    count_faces(first, at(2025, 3, 3, 10), 6000)
    count_faces(second, at(2025, 3, 20, 9), 2000)
    raise_at(first, at(2025, 3, 3, 10), "confirmed", engaged=True, result="arrested")
    raise_at(first, at(2025, 3, 3, 11), "not_a_match", demographics={"ethnicity": "IC2", "age_band": "25_34"})
    raise_at(first, at(2025, 3, 3, 12), "not_a_match")
    raise_at(second, at(2025, 3, 20, 9), "cannot_tell")
    return first, second


def charts(html: str) -> dict[str, ET.Element]:
    """Each inline chart, parsed as standalone XML (so it is valid SVG a force can also publish alone)."""
    found = {}
    for testid, svg in re.findall(r'data-testid="([a-z-]+-chart)">(<svg.*?</svg>)', html, re.S):
        found[testid] = ET.fromstring(svg)
    return found


def test_month_report_shows_figures_charts_and_no_subject(client_as, oversight, march):
    response = client_as(oversight).get(reverse("reports:month", args=[2025, 3]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "transparency report, March 2025" in html and "Harbour Festival" in html and "Station Approach" in html
    assert 'data-figure="alerts">4<' in html and 'data-figure="false_alerts">2<' in html
    assert 'data-figure="faces">8,000<' in html and 'data-figure="arrests">1<' in html
    assert "What the figures mean" in html
    assert "Subject 0" not in html and "PNC-0000" not in html and "probe" not in html

    svgs = charts(html)
    series = {g.get("data-series"): g for g in svgs["series-chart"].iter(f"{SVG}g") if g.get("data-series")}
    assert set(series) == {"alerts", "false_alerts"}
    alerts = {r.get("data-start"): int(r.get("data-value")) for r in series["alerts"].iter(f"{SVG}rect")}
    false_alerts = {r.get("data-start"): int(r.get("data-value")) for r in series["false_alerts"].iter(f"{SVG}rect")}
    assert len(alerts) == 31 and alerts["2025-03-03"] == 3 and alerts["2025-03-20"] == 1
    assert false_alerts["2025-03-03"] == 2 and sum(false_alerts.values()) == 2
    outcomes = {r.get("data-key"): int(r.get("data-value")) for r in svgs["outcomes-chart"].iter(f"{SVG}rect")}
    assert outcomes == {"confirmed": 1, "not_a_match": 2, "cannot_tell": 1, "pending": 0}


def test_year_report_has_weekly_series_and_links_to_months(client_as, commander, march):
    response = client_as(commander).get(reverse("reports:year", args=[2025]))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("reports:month", args=[2025, 3]) in html
    series = charts(html)["series-chart"]
    starts = [r.get("data-start") for r in series.iter(f"{SVG}rect") if r.get("data-start")]
    assert "2025-03-03" in starts and len(set(starts)) in (52, 53)


def test_month_csv_has_a_row_per_deployment_then_totals_and_is_audited(client_as, oversight, march):
    first, second = march
    response = client_as(oversight).get(reverse("reports:month_csv", args=[2025, 3]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["deployment"] for r in rows] == ["Harbour Festival", "Station Approach", TOTALS_LABEL]
    by_name = {r["deployment"]: r for r in rows}
    assert by_name["Harbour Festival"]["faces_processed"] == "6000" and by_name["Harbour Festival"]["alerts"] == "3"
    assert by_name["Harbour Festival"]["hours_live"] == "8.00"
    assert by_name["Station Approach"]["cannot_tell"] == "1"
    totals = by_name[TOTALS_LABEL]
    assert totals["alerts"] == "4" and totals["false_alerts"] == "2" and totals["arrests"] == "1"
    assert totals["faces_processed"] == "8000" and float(totals["false_alerts_per_1000_faces"]) == 2 * 1000 / 8000
    assert totals["false_alerts_ethnicity_IC2"] == "1" and totals["false_alerts_ethnicity_not_recorded"] == "1"
    assert "Subject 0" not in response.content.decode()
    event = AuditEvent.objects.get(action="statistics.exported")
    assert event.actor == oversight and event.details["period"] == "March 2025"


def test_deployment_page_and_csv(client_as, commander, march):
    first, _ = march
    client = client_as(commander)
    detail = client.get(reverse("deployments:detail", args=[first.pk])).content.decode()
    assert reverse("reports:deployment", args=[first.pk]) in detail
    page = client.get(reverse("reports:deployment", args=[first.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-figure="alerts">3<' in html
    assert 'data-figure="time_live">8 h 00 min<' in html
    assert "outcomes-chart" in charts(html)
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("reports:deployment_csv", args=[first.pk]))
                                           .content.decode())))
    assert len(rows) == 1 and rows[0]["deployment_id"] == str(first.pk) and rows[0]["false_alerts"] == "2"
    assert AuditEvent.objects.get(action="statistics.exported").deployment_id == first.pk


def test_the_false_alert_rate_authorised_is_set_against_the_one_observed(client_as, commander, march):
    from recognition.calibration import threshold_expectation
    from recognition.runtime import current_model_id

    first, _ = march
    shown = threshold_expectation(model_id=current_model_id(), threshold=first.threshold)
    client = client_as(commander)
    html = client.get(reverse("reports:deployment", args=[first.pk])).content.decode()
    [row] = csv.DictReader(io.StringIO(client.get(reverse("reports:deployment_csv", args=[first.pk])).content.decode()))

    assert row["threshold"] == f"{first.threshold:.2f}"
    assert row["expected_false_alerts_per_1000_faces"] == f"{shown.per_1000:.4f}"
    assert row["expected_false_alerts_per_1000_faces_upper_95"] == f"{shown.per_1000_upper:.4f}"
    figure = re.search(r'data-figure="expected_false_alert_rate">([^<]*)<', html).group(1)
    # 2 false alerts among 6,000 faces, against what the commander was shown for the threshold
    assert figure.startswith("expected ") and "at most " in figure and figure.endswith("observed 0.333 (1 in 3,000)")


def test_the_post_deployment_record_is_set_beside_the_officers_decisions(client_as, commander, march):
    from deployments.services import post_deployment_record_save

    first, _ = march  # ended; officers recorded one engagement, an arrest, on its alerts
    client = client_as(commander)
    page = client.get(reverse("reports:deployment", args=[first.pk])).content.decode()
    assert 'data-figure="post_record">not written yet<' in page

    post_deployment_record_save(actor=commander, deployment=first, outcomes="Two arrests", engagements=3, arrests=2)
    page = client.get(reverse("reports:deployment", args=[first.pk])).content.decode()
    assert ("3 engagements and 2 arrests written by the commander; officers' decisions on alerts record 1 and 1"
            in page)
    [row] = csv.DictReader(io.StringIO(client.get(reverse("reports:deployment_csv", args=[first.pk])).content.decode()))
    assert (row["post_record_engagements"], row["post_record_arrests"], row["engagements"], row["arrests"]) == (
        "3", "2", "1", "1")


def test_a_deployment_authorised_without_a_calibration_says_the_rate_was_unknown(client_as, commander, march):
    from deployments.models import DeploymentAuthorisation

    first, _ = march
    DeploymentAuthorisation.objects.filter(deployment=first).update(expected_false_alerts={"source": None})
    html = client_as(commander).get(reverse("reports:deployment", args=[first.pk])).content.decode()
    assert "expected rate not known (no calibration for the model)" in html


def test_index_lists_report_months_and_deployments(client_as, oversight, march, django_assert_max_num_queries):
    client = client_as(oversight)
    client.get(reverse("reports:index"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("reports:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("reports:month", args=[2025, 3]) in html and reverse("reports:year", args=[2025]) in html
    assert reverse("reports:deployment", args=[march[0].pk]) in html


@pytest.mark.parametrize("name,args", [
    ("reports:index", []), ("reports:year", [2025]), ("reports:month", [2025, 3]),
    ("reports:month_csv", [2025, 3]), ("reports:year_csv", [2025]),
])
def test_officers_detectives_and_outsiders_are_refused(client_as, officer, detective, outsider, name, args):
    for user in (officer, detective, outsider):
        assert client_as(user).get(reverse(name, args=args)).status_code == 403
    assert not AuditEvent.objects.filter(action="statistics.exported").exists()


def test_deployment_statistics_refused_to_officers_and_the_link_hidden(client_as, officer, march):
    first, _ = march
    client = client_as(officer)
    assert client.get(reverse("reports:deployment", args=[first.pk])).status_code == 403
    assert client.get(reverse("reports:deployment_csv", args=[first.pk])).status_code == 403
    detail = client.get(reverse("deployments:detail", args=[first.pk])).content.decode()
    assert reverse("reports:deployment", args=[first.pk]) not in detail


def test_impossible_periods_are_not_found(client_as, oversight):
    client = client_as(oversight)
    assert client.get("/reports/2025/13/").status_code == 404
    assert client.get("/reports/2025/0/").status_code == 404
    assert client.get("/reports/1066/").status_code == 404


def test_reports_link_back_in_time_but_not_into_the_future(client_as, oversight):
    from django.utils import timezone

    today = timezone.localdate()
    client = client_as(oversight)
    this_month = client.get(reverse("reports:month", args=[today.year, today.month])).content.decode()
    assert 'rel="prev"' in this_month and 'rel="next"' not in this_month
    this_year = client.get(reverse("reports:year", args=[today.year])).content.decode()
    assert 'rel="next"' not in this_year
    assert reverse("reports:month", args=[today.year, today.month]) in this_year
    if today.month < 12:
        assert reverse("reports:month", args=[today.year, today.month + 1]) not in this_year
    last_year = client.get(reverse("reports:year", args=[today.year - 1])).content.decode()
    assert f'href="{reverse("reports:year", args=[today.year])}" rel="next"' in last_year


def test_the_deployment_page_shows_its_measured_live_tpir(client_as, commander, officer, test_subject_deployment,
                                                          raise_subject_alert):
    from alerts import services

    services.test_walk_record(actor=officer, deployment=test_subject_deployment,
                              camera=test_subject_deployment.cameras.first(),
                              subject=test_subject_deployment.test_subject)
    alert = raise_subject_alert(test_subject_deployment, test_subject_deployment.test_subject)
    services.alert_adjudicate(actor=officer, alert=alert, decision="confirmed")
    page = client_as(commander).get(reverse("reports:deployment", args=[test_subject_deployment.pk])).content.decode()
    figure = re.search(r'data-figure="live_tpir">([^<]*)<', page).group(1)
    assert figure == "1 of 1 test walks alerted (100.0%; 95% interval 2.5% to 100.0%)"
    assert 'data-figure="test_alerts">1<' in page
    response = client_as(commander).get(reverse("reports:deployment_csv", args=[test_subject_deployment.pk]))
    header, row = list(csv.reader(io.StringIO(response.content.decode())))
    live = dict(zip(header, row, strict=True))
    assert (live["test_walks"], live["test_walks_alerted"], live["test_alerts"]) == ("1", "1", "1")
    assert (live["live_tpir_percent"], live["live_tpir_percent_low_95"], live["live_tpir_percent_high_95"]) == \
        ("100.0", "2.5", "100.0")
    assert (live["alerts"], live["confirmed"]) == ("0", "0")  # the test alert is not a real one


def test_the_deployment_page_has_no_live_testing_section_without_it(client_as, commander, march):
    first, _ = march
    page = client_as(commander).get(reverse("reports:deployment", args=[first.pk])).content.decode()
    assert 'data-testid="live-test"' not in page


@pytest.fixture
def stage_two(make_live, raise_at, count_faces, record_stage_two):
    """Live 4 March 2025: 12,345 faces, 1,500 tracks; two timed stops after false alerts, arrests in two
    categories."""
    deployment = make_live("Stage Two", at(2025, 3, 4, 9), at(2025, 3, 4, 12))
    count_faces(deployment, at(2025, 3, 4, 9, 5), 12_345, tracks=1_500)
    when = at(2025, 3, 4, 10)
    for minutes in (5, 12):
        raise_at(deployment, when, "not_a_match", engaged=True, identity_confirmed=False, stop_minutes=minutes,
                 result="no_further_action")
    record_stage_two(raise_at(deployment, when, "confirmed", engaged=True, result="arrested"),
                     category="wanted_by_courts")
    raise_at(deployment, when, "confirmed", engaged=True, result="arrested")
    return deployment


def figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', html).group(1)


def category_row(html: str, table: str, code: str) -> list[str]:
    """The cells of one category's row in a table (data-breakdown)."""
    section = html[html.index(f'data-breakdown="{table}"'):]
    row = re.search(rf'<tr data-code="{code}">(.*?)</tr>', section, re.S).group(1)
    return re.findall(r"<td[^>]*>([^<]*)</td>", row)


def test_the_deployment_page_shows_stage_two_figures_with_thousands_separators(client_as, commander, stage_two):
    html = client_as(commander).get(reverse("reports:deployment", args=[stage_two.pk])).content.decode()
    assert figure(html, "faces") == "12,345" and figure(html, "tracks") == "1,500"
    assert "Passers-by (tracks)" in html
    assert figure(html, "watchlist_size") == "1 subject"
    assert figure(html, "stops") == "2: 17 min in all, median 8.5 min (2 timed)"
    assert figure(html, "false_alert_engagements") == "2" and figure(html, "engagements") == "4"
    assert category_row(html, "arrests_by_category", "wanted_by_courts") == ["Wanted by the courts", "1"]
    assert category_row(html, "arrests_by_category", "suspected_of_offence")[1] == "1"
    # the table by category: alerts, then each result's engagements (arrest first)
    assert category_row(html, "category", "suspected_of_offence")[1:3] == ["3", "1"]


def test_the_csvs_carry_stage_two_figures_as_plain_numbers(client_as, commander, oversight, stage_two):
    [row] = csv.DictReader(io.StringIO(client_as(commander).get(
        reverse("reports:deployment_csv", args=[stage_two.pk])).content.decode()))
    assert (row["faces_processed"], row["tracks"], row["watchlist_size"]) == ("12345", "1500", "1")
    assert (row["stops"], row["stops_timed"], row["stop_minutes_total"], row["stop_minutes_median"]) == (
        "2", "2", "17", "8.5")
    assert row["false_alert_engagements"] == "2" and row["arrests"] == "2"
    assert row["arrests_category_wanted_by_courts"] == "1" and row["arrests_category_suspected_of_offence"] == "1"
    assert row["alerts_category_suspected_of_offence"] == "3"
    assert row["results_category_suspected_of_offence_no_further_action"] == "2"
    rows = list(csv.DictReader(io.StringIO(client_as(oversight).get(
        reverse("reports:year_csv", args=[2025])).content.decode())))
    totals = rows[-1]
    assert totals["deployment"] == TOTALS_LABEL and totals["watchlist_size"] == ""  # each deployment had its own
    assert totals["stops"] == "2" and totals["arrests_category_wanted_by_courts"] == "1"


def test_a_year_report_splits_arrests_and_results_by_category(client_as, oversight, stage_two):
    html = client_as(oversight).get(reverse("reports:year", args=[2025])).content.decode()
    assert 'data-testid="by-category"' in html
    assert category_row(html, "arrests_by_category", "wanted_by_courts")[1] == "1"
    assert category_row(html, "category", "wanted_by_courts")[1:3] == ["1", "1"]
    assert figure(html, "watchlist_size") == "see each deployment"
    rows = html[html.index('data-testid="deployment-rows"'):]
    assert figure(rows, "watchlist_size") == "1"
    assert figure(html, "stops").startswith("2: 17 min in all")
