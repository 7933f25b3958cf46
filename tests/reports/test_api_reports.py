"""The statistics API: the same figures as the selectors (and so the pages), for the roles that see the pages."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from reports.figures import Breakdown, DeploymentSummary, Figures
from reports.selectors import deployment_statistics, month_period, period_statistics, year_period
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def march(commander, make_live, raise_at, count_faces):
    """Two deployments in March 2025 (one with its post-deployment record), one over midnight into April."""
    from deployments.services import post_deployment_record_save

    first = make_live("Harbour Festival", at(2025, 3, 3, 9), at(2025, 3, 3, 17))
    second = make_live("Station Approach", at(2025, 3, 20, 8), at(2025, 3, 20, 10))
    overnight = make_live("Over midnight", at(2025, 3, 31, 22), at(2025, 4, 1, 2))
    count_faces(first, at(2025, 3, 3, 10), 6000)
    count_faces(second, at(2025, 3, 20, 9), 2000)
    count_faces(overnight, at(2025, 3, 31, 23), 700)
    count_faces(overnight, at(2025, 4, 1, 1), 1000)  # April: not in March's figures
    raise_at(first, at(2025, 3, 3, 10), "confirmed", decided_after=2, engaged=True, result="arrested")
    raise_at(first, at(2025, 3, 3, 11), "not_a_match", decided_after=5,
             demographics={"ethnicity": "IC2", "perceived_sex": "female", "age_band": "25_34"})
    raise_at(first, at(2025, 3, 3, 12), "not_a_match", decided_after=7)
    raise_at(first, at(2025, 3, 3, 13))
    raise_at(second, at(2025, 3, 20, 9), "cannot_tell", decided_after=3)
    raise_at(overnight, at(2025, 3, 31, 23, 30), "not_a_match", demographics={"ethnicity": "IC4"})
    raise_at(overnight, at(2025, 4, 1, 0, 30), "confirmed", engaged=True, result="words_of_advice")
    post_deployment_record_save(actor=commander, deployment=first, outcomes="One arrest", engagements=2, arrests=1)
    return first, second, overnight


# What the JSON must say for each dataclass, written out field by field (seconds for durations).

def breakdown_json(b: Breakdown) -> dict:
    return {"field": b.field, "title": b.title, "total": b.total,
            "counts": [{"code": c.code, "label": c.label, "count": c.count} for c in b.counts]}


def seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def figures_json(f: Figures) -> dict:
    o = f.outcomes
    return {
        "time_live_seconds": f.time_live.total_seconds(), "cameras": f.cameras, "faces": f.faces,
        "tracks": f.tracks, "false_alerts_per_1000_tracks": f.false_alerts_per_1000_tracks, "alerts": f.alerts,
        "false_alerts": f.false_alerts,
        "outcomes": {"confirmed": o.confirmed, "not_a_match": o.not_a_match, "cannot_tell": o.cannot_tell,
                     "pending": o.pending, "decided": o.decided, "total": o.total},
        "false_alerts_per_1000_faces": f.false_alerts_per_1000_faces, "false_alert_share": f.false_alert_share,
        "decision_time_median_seconds": seconds(f.decision_time_median),
        "decision_time_p90_seconds": seconds(f.decision_time_p90),
        "engagements": f.engagements, "arrests": f.arrests, "results": breakdown_json(f.results),
        "false_alert_demographics": [breakdown_json(b) for b in f.false_alert_demographics],
        "watchlist_size": f.watchlist_size, "stops": f.stops, "stops_timed": f.stops_timed,
        "stop_minutes_total": f.stop_minutes_total, "stop_minutes_median": f.stop_minutes_median,
        "false_alert_engagements": f.false_alert_engagements,
        "alerts_by_category": breakdown_json(f.alerts_by_category),
        "arrests_by_category": breakdown_json(f.arrests_by_category),
        "results_by_category": [breakdown_json(b) for b in f.results_by_category],
    }


def summary_json(d: DeploymentSummary) -> dict:
    return {"id": d.id, "name": d.name, "location": d.location, "purpose": d.purpose, "state": d.state,
            "went_live_at": d.went_live_at, "ended_at": d.ended_at, "threshold": d.threshold,
            "expected_false_alerts_per_1000_faces": d.expected_per_1000,
            "expected_false_alerts_per_1000_faces_upper_95": d.expected_per_1000_upper,
            "expected_false_alerts_per_1000_passersby": d.expected_per_1000_passersby,
            "expected_false_alerts_per_1000_passersby_upper_95": d.expected_per_1000_passersby_upper,
            "expected_device": d.expected_device,
            "post_record_engagements": d.recorded_engagements, "post_record_arrests": d.recorded_arrests}


def with_datetimes(summary: dict) -> dict:
    """The JSON summary with its ISO timestamps read back, to compare instants rather than spellings."""
    return {**summary, **{key: dt.datetime.fromisoformat(summary[key]) if summary[key] else None
                          for key in ("went_live_at", "ended_at")}}


def test_a_deployments_figures_are_the_selectors(api_as, commander, march):
    first, _, _ = march
    response = api_as(commander).get(reverse("api:report-deployment", args=[first.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    stats = deployment_statistics(user=commander, deployment_id=first.pk)

    assert body["figures"] == figures_json(stats.figures)
    assert with_datetimes(body["deployment"]) == summary_json(stats.deployment)
    # what the fixture put in, so the comparison above is not of two empty reports
    figures = body["figures"]
    assert figures["time_live_seconds"] == 8 * 3600 and figures["faces"] == 6000 and figures["alerts"] == 4
    assert figures["outcomes"]["pending"] == 1 and figures["false_alert_share"] == 2 / 3
    assert figures["false_alerts_per_1000_faces"] == 2 * 1000 / 6000
    assert figures["decision_time_median_seconds"] == 5 * 60
    assert {c["code"]: c["count"] for c in figures["results"]["counts"] if c["count"]} == {"arrested": 1}
    sex = next(b for b in figures["false_alert_demographics"] if b["field"] == "perceived_sex")
    assert {c["code"]: c["count"] for c in sex["counts"]} == {"male": 0, "female": 1, "unknown": 0, "": 1}
    summary = body["deployment"]
    assert summary["threshold"] == first.threshold and summary["name"] == "Harbour Festival"
    assert (summary["post_record_engagements"], summary["post_record_arrests"]) == (2, 1)
    assert summary["expected_false_alerts_per_1000_faces"] is not None


def test_a_months_rows_totals_and_series_are_the_selectors(api_as, oversight, march):
    first, second, overnight = march
    response = api_as(oversight).get(reverse("api:report-month", args=[2025, 3]))
    assert response.status_code == 200
    body = response.json()
    start, end, title = month_period(2025, 3)
    report = period_statistics(user=oversight, start=start, end=end, title=title)

    assert (body["title"], body["step"]) == ("March 2025", "day")
    assert (dt.datetime.fromisoformat(body["start"]), dt.datetime.fromisoformat(body["end"])) == (start, end)
    assert [row["deployment"]["id"] for row in body["deployments"]] == [first.pk, second.pk, overnight.pk]
    for row, expected in zip(body["deployments"], report.deployments, strict=True):
        assert row["figures"] == figures_json(expected.figures)
        assert with_datetimes(row["deployment"]) == summary_json(expected.deployment)
    assert body["totals"] == figures_json(report.totals)
    assert body["series"] == [{"start": p.start.isoformat(), "faces": p.faces, "alerts": p.alerts,
                               "false_alerts": p.false_alerts, "confirmed": p.confirmed} for p in report.series]
    # March's part only of the deployment that ran into April; the totals add up the rows
    rows = {row["deployment"]["id"]: row["figures"] for row in body["deployments"]}
    assert rows[overnight.pk]["time_live_seconds"] == 2 * 3600 and rows[overnight.pk]["faces"] == 700
    totals = body["totals"]
    assert totals["faces"] == sum(r["faces"] for r in rows.values()) == 6000 + 2000 + 700
    assert totals["alerts"] == sum(r["alerts"] for r in rows.values()) == 6
    assert totals["arrests"] == 1 and totals["engagements"] == 1
    assert len(body["series"]) == 31 and sum(p["alerts"] for p in body["series"]) == 6


def test_a_years_report_counts_the_whole_year_by_week(api_as, commander, march):
    response = api_as(commander).get(reverse("api:report-year", args=[2025]))
    assert response.status_code == 200
    body = response.json()
    start, end, title = year_period(2025)
    report = period_statistics(user=commander, start=start, end=end, title=title)
    assert body["title"] == "2025" and body["step"] == "week"
    assert body["totals"] == figures_json(report.totals)
    assert len(body["deployments"]) == 3 and body["totals"]["alerts"] == 7 and body["totals"]["faces"] == 9700
    assert sum(p["alerts"] for p in body["series"]) == 7


def test_a_period_with_no_deployment_has_empty_rows_and_zero_totals(api_as, oversight):
    body = api_as(oversight).get(reverse("api:report-month", args=[2024, 2])).json()
    assert body["deployments"] == [] and len(body["series"]) == 29
    assert body["totals"]["alerts"] == 0 and body["totals"]["false_alerts_per_1000_faces"] is None


def test_queries_do_not_grow_with_deployments(api_as, oversight, march, make_live, raise_at, count_faces,
                                              django_assert_max_num_queries):
    api = api_as(oversight)
    url = reverse("api:report-month", args=[2025, 3])
    # the session, the user, their MFA device and permissions, the selector's fixed set, the session saved
    with django_assert_max_num_queries(20) as few:
        assert len(api.get(url).json()["deployments"]) == 3
    for day in range(10, 16):
        deployment = make_live(f"More {day}", at(2025, 3, day, 9), at(2025, 3, day, 10))
        count_faces(deployment, at(2025, 3, day, 9, 10), 100)
        raise_at(deployment, at(2025, 3, day, 9, 30), "not_a_match")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(url).json()["deployments"]) == 9


@pytest.mark.parametrize("name,args", [("api:report-year", [2025]), ("api:report-month", [2025, 3])])
def test_only_commanders_and_oversight_read_the_reports(api_as, commander, oversight, officer, detective,
                                                         administrator, outsider, march, name, args):
    url = reverse(name, args=args)
    for user in (commander, oversight):
        assert api_as(user).get(url).status_code == 200
    for user in (officer, detective, administrator, outsider):
        response = api_as(user).get(url)
        assert response.status_code == 403 and "detail" in response.json()
    anonymous = APIClient().get(url)  # JSON, not a redirect to the login page
    assert anonymous.status_code == 403 and anonymous["Content-Type"] == "application/json"


def test_other_roles_are_refused_before_anything_is_read(api_as, officer, detective, commander, march):
    first, _, _ = march
    for user in (officer, detective):
        api = api_as(user)
        assert api.get(reverse("api:report-deployment", args=[first.pk])).status_code == 403
        # 403, not 404: nobody learns from a refusal which deployments or periods exist
        assert api.get(reverse("api:report-deployment", args=[first.pk + 1000])).status_code == 403
        assert api.get(reverse("api:report-month", args=[2025, 13])).status_code == 403
    assert api_as(commander).get(reverse("api:report-deployment", args=[first.pk])).status_code == 200


@pytest.mark.parametrize("url", ["/api/reports/2025/13/", "/api/reports/2025/0/", "/api/reports/1066/",
                                 "/api/reports/1066/3/", "/api/reports/2101/"])
def test_impossible_periods_are_not_found(api_as, oversight, url):
    response = api_as(oversight).get(url)
    assert response.status_code == 404 and response.json() == {"detail": "no such period"}


def test_an_unknown_deployment_is_not_found(api_as, oversight, march):
    response = api_as(oversight).get(reverse("api:report-deployment", args=[max(d.pk for d in march) + 1000]))
    assert response.status_code == 404 and "detail" in response.json()


def test_reading_is_not_audited(api_as, oversight, march):
    """Like the report pages; only the CSV export is an audit event."""
    api = api_as(oversight)
    before = AuditEvent.objects.count()
    api.get(reverse("api:report-deployment", args=[march[0].pk]))
    api.get(reverse("api:report-month", args=[2025, 3]))
    api.get(reverse("api:report-year", args=[2025]))
    assert AuditEvent.objects.count() == before


def test_no_subject_name_reference_or_image_in_any_answer(api_as, oversight, march):
    from watchlists.models import InclusionCategory, Subject

    api = api_as(oversight)
    # the inclusion categories are counted by name ("Subject to bail conditions...": no one's data)
    categories = [word for value, label in InclusionCategory.choices for word in (value, label)]
    words = [word for subject in Subject.objects.all() for word in (subject.name, subject.reference)]
    assert words  # the fixture's watchlist has its subject, and alerts were raised on it
    for url in (reverse("api:report-deployment", args=[march[0].pk]), reverse("api:report-month", args=[2025, 3]),
                reverse("api:report-year", args=[2025])):
        text = api.get(url).content.decode()
        for word in categories:
            text = text.replace(word, "")
        assert not [word for word in words if word in text], url
        assert "probe" not in text and "image" not in text and "subject" not in text


def test_the_schema_documents_the_reports_with_no_personal_field(api_as, oversight):
    schema = api_as(oversight).get("/api/schema/?format=json").json()
    operations = {path: schema["paths"][path]["get"] for path in schema["paths"] if path.startswith("/api/reports/")}
    assert set(operations) == {"/api/reports/deployments/{deployment_id}/", "/api/reports/{year}/",
                               "/api/reports/{year}/{month}/"}
    for operation in operations.values():
        assert "not audited" in operation["description"]
        assert set(operation["responses"]) == {"200", "403", "404"}

    def properties(name: str, seen: set) -> set:
        """Every property name reachable from a component."""
        seen.add(name)
        found = set()
        for prop, spec in schema["components"]["schemas"][name].get("properties", {}).items():
            found.add(prop)
            for ref in (json.dumps(spec).split('"#/components/schemas/')[1:]):
                inner = ref.split('"')[0]
                if inner not in seen:
                    found |= properties(inner, seen)
        return found

    fields = properties("PeriodStatistics", set()) | properties("DeploymentStatistics", set())
    assert {"time_live_seconds", "false_alerts_per_1000_faces", "expected_false_alerts_per_1000_faces_upper_95",
            "post_record_arrests", "false_alert_demographics", "series"} <= fields
    counts_only = {"watchlist_size"}  # how many subjects, never which
    assert not [f for f in fields - counts_only
                if any(word in f for word in ("subject", "reference", "image", "watchlist"))]


def test_a_deployments_live_test_is_in_its_report(api_as, commander, officer, test_subject_deployment,
                                                   raise_subject_alert):
    from alerts import services

    services.test_walk_record(actor=officer, deployment=test_subject_deployment,
                              camera=test_subject_deployment.cameras.first(),
                              subject=test_subject_deployment.test_subject)
    raise_subject_alert(test_subject_deployment, test_subject_deployment.test_subject)
    body = api_as(commander).get(reverse("api:report-deployment", args=[test_subject_deployment.pk])).json()
    assert body["live_test"] == {"walks": 1, "alerted": 1, "missed": 0, "test_alerts": 1, "tpir": 1.0,
                                 "tpir_low": pytest.approx(0.025), "tpir_high": 1.0, "window_seconds": 60}
    assert body["figures"]["alerts"] == 0  # the test alert is not a real one
