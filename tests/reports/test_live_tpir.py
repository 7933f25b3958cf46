"""reports.selectors: a deployment's measured live TPIR (test walks against test alerts), and test alerts kept
out of every real-alert figure, the published reports included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import AlertRecord
from reports.selectors import deployment_statistics, period_statistics, proportion_interval

pytestmark = pytest.mark.django_db


@pytest.fixture
def walk(officer):
    def record(deployment, *, minutes_ago: float, camera=None):
        return services.test_walk_record(actor=officer, deployment=deployment,
                                         camera=camera or deployment.cameras.first(),
                                         subject=deployment.test_subject,
                                         walked_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return record


@pytest.fixture
def test_alert(raise_subject_alert, officer):
    tracks = iter(range(100, 10_000))

    def raise_(deployment, *, minutes_ago: float, decision: str | None = None, camera=None, subject=None):
        alert = raise_subject_alert(deployment, subject or deployment.test_subject, camera=camera,
                                    track_id=next(tracks))
        AlertRecord.objects.filter(alert=alert).update(raised_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
        if decision:
            services.alert_adjudicate(actor=officer, alert=alert, decision=decision)
        return alert
    return raise_


def test_no_live_test_without_walks_or_test_alerts(commander, test_subject_deployment):
    assert deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).live_test is None


def test_one_walk_alerted_is_1_of_1_with_its_interval(commander, test_subject_deployment, walk, test_alert):
    walk(test_subject_deployment, minutes_ago=5)
    test_alert(test_subject_deployment, minutes_ago=5.5, decision="confirmed")  # 30 s after: inside ±60 s
    live = deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).live_test
    assert (live.walks, live.alerted, live.missed, live.tpir) == (1, 1, 0, 1.0)
    assert live.tpir_low == pytest.approx(0.025) and live.tpir_high == 1.0


def test_walks_are_matched_by_subject_camera_and_window(commander, detective, test_subject_deployment, walk,
                                                       test_alert, raise_subject_alert, settings):
    from tests.factories import video_camera

    other_camera = video_camera(detective, "Camera 2")
    test_subject_deployment.cameras.add(other_camera)
    walk(test_subject_deployment, minutes_ago=9)   # alerted (20 s off)
    walk(test_subject_deployment, minutes_ago=7)   # the alert 90 s later is outside the window: missed
    walk(test_subject_deployment, minutes_ago=4)   # its alert was on the other camera: missed
    walk(test_subject_deployment, minutes_ago=2)   # officers said "not a match": not counted as alerted
    test_alert(test_subject_deployment, minutes_ago=9 - 20 / 60)
    test_alert(test_subject_deployment, minutes_ago=5.5)
    test_alert(test_subject_deployment, minutes_ago=4, camera=other_camera)
    test_alert(test_subject_deployment, minutes_ago=2, decision="not_a_match")
    live = deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).live_test
    assert (live.walks, live.alerted, live.test_alerts) == (4, 1, 4)
    low, high = proportion_interval(1, 4)
    assert (live.tpir_low, live.tpir_high) == (low, high) and 0.006 < low < 0.007 and 0.80 < high < 0.81
    settings.TEST_WALK_MATCH_SECONDS = 180  # a wider window catches the second walk's alert
    assert deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).live_test.alerted == 2


def test_one_alert_counts_for_one_walk_only(commander, test_subject_deployment, walk, test_alert):
    walk(test_subject_deployment, minutes_ago=3)
    walk(test_subject_deployment, minutes_ago=3.2)
    test_alert(test_subject_deployment, minutes_ago=3.1)
    live = deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).live_test
    assert (live.walks, live.alerted) == (2, 1)


def test_test_alerts_are_not_false_alerts_or_published(commander, oversight, test_subject_deployment, test_alert):
    test_alert(test_subject_deployment, minutes_ago=6, decision="not_a_match")
    test_alert(test_subject_deployment, minutes_ago=5, decision="confirmed")
    test_alert(test_subject_deployment, minutes_ago=4, decision="not_a_match",
               subject=test_subject_deployment.real_subject)  # a real false alert
    figures = deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).figures
    assert (figures.alerts, figures.false_alerts, figures.outcomes.confirmed) == (1, 1, 0)
    now = timezone.now()
    period = period_statistics(user=oversight, start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1))
    assert (period.totals.alerts, period.totals.false_alerts, period.totals.outcomes.confirmed) == (1, 1, 0)
    assert sum(point.alerts for point in period.series) == 1
    assert all(d.live_test is None for d in period.deployments)  # test walks are not in transparency reports


def test_the_live_test_outlives_the_alerts_retention(commander, test_subject_deployment, walk, test_alert,
                                                    settings):
    from alerts.models import Alert

    walk(test_subject_deployment, minutes_ago=5)
    test_alert(test_subject_deployment, minutes_ago=5, decision="confirmed")
    before = deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).live_test
    Alert.objects.update(created_at=timezone.now() - dt.timedelta(days=settings.ALERT_RETENTION_DAYS + 1))
    assert services.alerts_purge_expired() == 1
    assert deployment_statistics(user=commander, deployment_id=test_subject_deployment.pk).live_test == before


def test_the_live_test_costs_two_queries(commander, test_subject_deployment, walk, test_alert,
                                         django_assert_num_queries):
    for minutes in range(1, 6):
        walk(test_subject_deployment, minutes_ago=minutes)
        test_alert(test_subject_deployment, minutes_ago=minutes)
    from reports.selectors import _live_test

    with django_assert_num_queries(2):
        assert _live_test(test_subject_deployment.pk).alerted == 5
