import datetime as dt

import numpy
import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alerts_purge_expired
from reports.selectors import deployment_statistics
from tests.factories import video_camera
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_deployment(detective, make_live, raise_at, count_faces):
    """Live 09:00-12:30 on 4 March 2025 on two cameras; six alerts with every kind of outcome."""
    cameras = [video_camera(detective, "North"), video_camera(detective, "South")]
    deployment = make_live("Market Day", at(2025, 3, 4, 9), at(2025, 3, 4, 12, 30), cameras=cameras)
    count_faces(deployment, at(2025, 3, 4, 9, 1), 1200, camera=cameras[0])
    count_faces(deployment, at(2025, 3, 4, 9, 2), 300, camera=cameras[0])
    count_faces(deployment, at(2025, 3, 4, 10), 500, camera=cameras[1])
    when = at(2025, 3, 4, 10)
    raise_at(deployment, when, "confirmed", decided_after=1, engaged=True, result="arrested")
    raise_at(deployment, when, "confirmed", decided_after=2, engaged=True, result="words_of_advice")
    raise_at(deployment, when, "not_a_match", decided_after=3,
             demographics={"ethnicity": "IC3", "perceived_sex": "male", "age_band": "18_24"})
    raise_at(deployment, when, "not_a_match", decided_after=4)
    raise_at(deployment, when, "cannot_tell", decided_after=10, camera=cameras[1])
    raise_at(deployment, when)
    return deployment


def test_counts_every_figure_of_one_deployment(oversight, decided_deployment):
    figures = deployment_statistics(user=oversight, deployment_id=decided_deployment.pk).figures
    assert figures.time_live == dt.timedelta(hours=3, minutes=30)
    assert figures.cameras == 2 and figures.faces == 1200 + 300 + 500
    assert figures.alerts == 6
    outcomes = figures.outcomes
    assert (outcomes.confirmed, outcomes.not_a_match, outcomes.cannot_tell, outcomes.pending) == (2, 2, 1, 1)
    assert figures.false_alerts_per_1000_faces == pytest.approx(2 * 1000 / 2000)
    assert figures.false_alert_share == pytest.approx(2 / 5)
    waits = [1, 2, 3, 4, 10]
    assert figures.decision_time_median == dt.timedelta(minutes=numpy.median(waits))
    assert figures.decision_time_p90.total_seconds() == pytest.approx(numpy.percentile(waits, 90) * 60)
    assert figures.engagements == 2 and figures.arrests == 1
    assert {c.code: c.count for c in figures.results.counts if c.count} == {"arrested": 1, "words_of_advice": 1}


def test_false_alert_demographics_count_each_field_and_the_unrecorded(oversight, decided_deployment):
    figures = deployment_statistics(user=oversight, deployment_id=decided_deployment.pk).figures
    by_field = {b.field: {c.code: c.count for c in b.counts} for b in figures.false_alert_demographics}
    assert by_field["ethnicity"]["IC3"] == 1 and by_field["ethnicity"][""] == 1
    assert by_field["perceived_sex"]["male"] == 1 and by_field["age_band"]["18_24"] == 1
    assert all(sum(counts.values()) == figures.false_alerts for counts in by_field.values())
    # every code is listed, recorded or not, so one report compares with the next
    assert {"IC1", "IC2", "IC4", "IC5", "IC6", "IC9"} <= set(by_field["ethnicity"])


def test_figures_outlive_the_alerts_retention(oversight, decided_deployment, settings):
    before = deployment_statistics(user=oversight, deployment_id=decided_deployment.pk)
    Alert.objects.update(created_at=timezone.now() - dt.timedelta(days=settings.ALERT_RETENTION_DAYS + 1))
    assert alerts_purge_expired() == 6
    assert not Alert.objects.exists()
    assert deployment_statistics(user=oversight, deployment_id=decided_deployment.pk) == before


def test_other_deployments_are_not_counted(oversight, decided_deployment, make_live, raise_at, count_faces):
    other = make_live("Elsewhere", at(2025, 3, 4, 9), at(2025, 3, 4, 10))
    raise_at(other, at(2025, 3, 4, 9, 30), "not_a_match")
    count_faces(other, at(2025, 3, 4, 9, 30), 999)
    figures = deployment_statistics(user=oversight, deployment_id=decided_deployment.pk).figures
    assert figures.alerts == 6 and figures.faces == 2000 and figures.false_alerts == 2


def test_a_deployment_still_live_counts_up_to_now(commander, make_live):
    started = timezone.now() - dt.timedelta(minutes=45)
    stats = deployment_statistics(user=commander, deployment_id=make_live("Ongoing", started).pk)
    assert stats.deployment.went_live_at == started and stats.deployment.ended_at is None
    assert dt.timedelta(minutes=45) <= stats.figures.time_live < dt.timedelta(minutes=50)
    assert stats.figures.alerts == 0 and stats.figures.false_alerts_per_1000_faces is None
    assert stats.figures.decision_time_median is None


def test_only_statistics_roles_may_read_them(officer, detective, outsider, commander, decided_deployment):
    for user in (officer, detective, outsider):
        with pytest.raises(PermissionDenied):
            deployment_statistics(user=user, deployment_id=decided_deployment.pk)
    with pytest.raises(Http404):
        deployment_statistics(user=commander, deployment_id=decided_deployment.pk + 1000)


@pytest.fixture
def engaged_deployment(make_live, raise_at, count_faces, record_stage_two):
    """Stops after false alerts (timed 5, 12 and 30 minutes, one untimed), arrests in two categories, one person
    not found."""
    deployment = make_live("Stage two", at(2025, 3, 4, 9), at(2025, 3, 4, 12))
    count_faces(deployment, at(2025, 3, 4, 9, 5), 1500, tracks=1200)
    when = at(2025, 3, 4, 10)
    for minutes in (5, 12, 30):
        raise_at(deployment, when, "not_a_match", engaged=True, identity_confirmed=False, stop_minutes=minutes,
                 result="no_further_action")
    # a stop recorded before its minutes were required
    record_stage_two(raise_at(deployment, when, "not_a_match"), engaged=True, identity_confirmed=False, stop_minutes=None,
                     result="no_further_action")
    raise_at(deployment, when, "not_a_match", engaged=False)
    record_stage_two(raise_at(deployment, when, "confirmed", engaged=True, result="arrested"), category="wanted_by_courts")
    raise_at(deployment, when, "confirmed", engaged=True, result="arrested")
    record_stage_two(raise_at(deployment, when, "confirmed", engaged=True, result="safeguarding"),
                     category="missing_at_risk")
    raise_at(deployment, when, "confirmed", engaged=False, result="could_not_locate")
    return deployment


def test_stage_two_figures_count_stops_and_engagements_after_false_alerts(oversight, engaged_deployment):
    figures = deployment_statistics(user=oversight, deployment_id=engaged_deployment.pk).figures
    assert figures.watchlist_size == 1  # the authorised snapshot's subjects
    assert figures.tracks == 1200
    assert figures.stops == 4 and figures.stops_timed == 3
    assert figures.stop_minutes_total == 5 + 12 + 30 and figures.stop_minutes_median == 12
    assert figures.false_alert_engagements == 4 and figures.engagements == 7 and figures.arrests == 2
    # "could not locate" is a result without an engagement
    assert {c.code: c.count for c in figures.results.counts}["could_not_locate"] == 1


def test_arrests_alerts_and_results_split_by_inclusion_category(oversight, engaged_deployment):
    figures = deployment_statistics(user=oversight, deployment_id=engaged_deployment.pk).figures
    arrests = {c.code: c.count for c in figures.arrests_by_category.counts}
    assert arrests["wanted_by_courts"] == 1 and arrests["suspected_of_offence"] == 1
    assert sum(arrests.values()) == figures.arrests == figures.arrests_by_category.total
    assert "test_subject" not in arrests  # never a real alert's category
    alerts = {c.code: c.count for c in figures.alerts_by_category.counts}
    assert alerts == alerts | {"suspected_of_offence": 7, "wanted_by_courts": 1, "missing_at_risk": 1}
    results = {b.field: {c.code: c.count for c in b.counts if c.count} for b in figures.results_by_category}
    assert results["missing_at_risk"] == {"safeguarding": 1}
    assert results["suspected_of_offence"] == {"no_further_action": 4, "arrested": 1, "could_not_locate": 1}


def test_a_stop_median_of_an_even_number_is_the_middle_two_averaged(oversight, make_live, raise_at):
    deployment = make_live("Two stops", at(2025, 3, 5, 9), at(2025, 3, 5, 10))
    for minutes in (4, 9):
        raise_at(deployment, at(2025, 3, 5, 9, 30), "not_a_match", engaged=True, identity_confirmed=False,
                 stop_minutes=minutes)
    figures = deployment_statistics(user=oversight, deployment_id=deployment.pk).figures
    assert figures.stop_minutes_median == 6.5 and figures.stop_minutes_total == 13


def test_a_bounded_number_of_queries(oversight, decided_deployment, django_assert_max_num_queries):
    """The figures, plus two for the live test (test walks and test alerts), whatever the number of alerts."""
    with django_assert_max_num_queries(12):
        deployment_statistics(user=oversight, deployment_id=decided_deployment.pk)
