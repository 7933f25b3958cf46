import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.errors import RuleViolation
from reports.selectors import month_period, period_statistics, year_period
from tests.factories import video_camera
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def spring(detective, make_live, raise_at, count_faces):
    """March 2025: one deployment inside it, one that ran over midnight from 28 February; one in April."""
    shared = video_camera(detective, "Station forecourt")
    inside = make_live("Inside March", at(2025, 3, 10, 9), at(2025, 3, 10, 13),
                       cameras=[shared, video_camera(detective, "Inside 2")])
    overnight = make_live("Over midnight", at(2025, 2, 28, 22), at(2025, 3, 1, 2), cameras=[shared])
    april = make_live("April", at(2025, 4, 2, 10), at(2025, 4, 2, 11))
    count_faces(inside, at(2025, 3, 10, 10), 4000)
    count_faces(overnight, at(2025, 2, 28, 23), 700)  # February: not in the March figures
    count_faces(overnight, at(2025, 3, 1, 1), 1000)
    count_faces(april, at(2025, 4, 2, 10, 30), 5000)
    raise_at(inside, at(2025, 3, 10, 10), "confirmed", engaged=True, result="arrested")
    raise_at(inside, at(2025, 3, 10, 11), "not_a_match", demographics={"ethnicity": "IC1"})
    raise_at(overnight, at(2025, 2, 28, 23, 30), "not_a_match")  # February
    raise_at(overnight, at(2025, 3, 1, 0, 30), "not_a_match", demographics={"ethnicity": "IC4"})
    raise_at(april, at(2025, 4, 2, 10, 30), "confirmed")
    return inside, overnight, april


def march(user):
    start, end, title = month_period(2025, 3)
    return period_statistics(user=user, start=start, end=end, title=title)


def test_a_month_counts_the_deployments_live_in_it_and_only_what_happened_in_it(oversight, spring):
    inside, overnight, _ = spring
    report = march(oversight)
    assert report.title == "March 2025"
    assert [row.deployment.id for row in report.deployments] == [overnight.pk, inside.pk]
    rows = {row.deployment.id: row.figures for row in report.deployments}
    assert rows[overnight.pk].time_live == dt.timedelta(hours=2)  # 00:00-02:00 of its 4 hours
    assert rows[overnight.pk].faces == 1000 and rows[overnight.pk].alerts == 1
    assert rows[inside.pk].time_live == dt.timedelta(hours=4) and rows[inside.pk].faces == 4000
    totals = report.totals
    assert totals.time_live == dt.timedelta(hours=6)
    assert totals.faces == 5000 and totals.alerts == 3 and totals.false_alerts == 2
    assert totals.outcomes.confirmed == 1 and totals.arrests == 1 and totals.engagements == 1
    assert totals.cameras == 2  # the shared camera once
    assert totals.false_alerts_per_1000_faces == pytest.approx(2 * 1000 / 5000)
    ethnicity = {c.code: c.count for c in totals.false_alert_demographics[0].counts}
    assert ethnicity["IC1"] == 1 and ethnicity["IC4"] == 1


def test_totals_are_the_sum_of_the_rows(oversight, spring):
    start, end, title = year_period(2025)
    report = period_statistics(user=oversight, start=start, end=end, title=title)
    assert len(report.deployments) == 3
    for name in ("faces", "alerts", "false_alerts", "engagements", "arrests"):
        assert getattr(report.totals, name) == sum(getattr(row.figures, name) for row in report.deployments)
    assert report.totals.time_live == sum((row.figures.time_live for row in report.deployments), dt.timedelta(0))


def test_month_series_has_a_point_per_day(oversight, spring):
    report = march(oversight)
    assert report.step == "day" and len(report.series) == 31
    assert report.series[0].start == dt.date(2025, 3, 1) and report.series[-1].start == dt.date(2025, 3, 31)
    points = {p.start: p for p in report.series}
    assert (points[dt.date(2025, 3, 10)].alerts, points[dt.date(2025, 3, 10)].false_alerts) == (2, 1)
    assert points[dt.date(2025, 3, 10)].confirmed == 1 and points[dt.date(2025, 3, 10)].faces == 4000
    assert points[dt.date(2025, 3, 1)].false_alerts == 1
    assert sum(p.alerts for p in report.series) == report.totals.alerts
    assert sum(p.faces for p in report.series) == report.totals.faces


def test_year_series_has_a_point_per_week(oversight, spring):
    start, end, title = year_period(2025)
    report = period_statistics(user=oversight, start=start, end=end, title=title)
    assert report.step == "week"
    assert all(p.start.weekday() == 0 for p in report.series)
    assert report.series[0].start <= dt.date(2025, 1, 1) < report.series[1].start
    assert sum(p.alerts for p in report.series) == report.totals.alerts == 5
    week_of_10_march = next(p for p in report.series if p.start == dt.date(2025, 3, 10))
    assert week_of_10_march.alerts == 2


def test_an_empty_period_has_zeros_and_no_rates(commander, spring):
    start, end, title = month_period(2024, 6)
    report = period_statistics(user=commander, start=start, end=end, title=title)
    assert report.deployments == () and report.totals.alerts == 0 and report.totals.faces == 0
    assert report.totals.false_alerts_per_1000_faces is None and report.totals.false_alert_share is None
    assert len(report.series) == 30 and not any(p.alerts for p in report.series)


def test_the_number_of_queries_does_not_grow_with_deployments(oversight, spring, make_live, raise_at,
                                                              django_assert_max_num_queries):
    with django_assert_max_num_queries(13) as few:
        march(oversight)
    for day in range(11, 15):
        raise_at(make_live(f"More {day}", at(2025, 3, day, 9), at(2025, 3, day, 10)), at(2025, 3, day, 9, 30))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(march(oversight).deployments) == 6


def test_only_statistics_roles_and_a_real_period(officer, detective, outsider, oversight):
    start, end, _ = month_period(2025, 3)
    for user in (officer, detective, outsider):
        with pytest.raises(PermissionDenied):
            period_statistics(user=user, start=start, end=end)
    with pytest.raises(RuleViolation):
        period_statistics(user=oversight, start=end, end=start)


def test_month_boundaries_are_local_time(oversight):
    start, end, _ = month_period(2025, 7)  # British Summer Time: midnight local is 23:00 UTC
    assert start == dt.datetime(2025, 6, 30, 23, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 7, 31, 23, tzinfo=dt.UTC)
    assert timezone.localtime(start).hour == 0
