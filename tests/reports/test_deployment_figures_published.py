"""reports.selectors.deployment_figures_published: the aggregate figures a public page may show, without a user."""

import pytest
from django.http import Http404

from reports.selectors import deployment_figures_published, deployment_statistics
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db


def test_the_published_figures_are_the_reports_figures(oversight, make_live, raise_at, count_faces):
    deployment = make_live("Published", at(2025, 3, 4, 9), at(2025, 3, 4, 12))
    count_faces(deployment, at(2025, 3, 4, 9, 5), 2500, tracks=2100)
    raise_at(deployment, at(2025, 3, 4, 10), "not_a_match", engaged=True, identity_confirmed=False, stop_minutes=8)
    raise_at(deployment, at(2025, 3, 4, 10), "confirmed", engaged=True, result="arrested")
    figures = deployment_figures_published(deployment_id=deployment.pk)
    assert figures == deployment_statistics(user=oversight, deployment_id=deployment.pk).figures
    assert (figures.watchlist_size, figures.tracks, figures.stops, figures.stop_minutes_total) == (1, 2100, 1, 8)
    assert figures.false_alert_engagements == 1 and figures.arrests == 1


def test_test_subjects_alerts_are_not_published(make_live, raise_at):
    from alerts.models import AlertRecord

    deployment = make_live("With a test walk", at(2025, 3, 4, 9), at(2025, 3, 4, 12))
    raise_at(deployment, at(2025, 3, 4, 10), "confirmed")
    AlertRecord.objects.update(test_subject_id=1)
    figures = deployment_figures_published(deployment_id=deployment.pk)
    assert figures.alerts == 0 and figures.outcomes.confirmed == 0


def test_an_unknown_deployment_is_404():
    with pytest.raises(Http404):
        deployment_figures_published(deployment_id=987654)


def test_several_deployments_at_once_in_a_fixed_number_of_queries(make_live, raise_at, count_faces,
                                                                   django_assert_max_num_queries):
    from reports.selectors import deployments_figures_published

    made = [make_live(f"Day {day}", at(2025, 3, day, 9), at(2025, 3, day, 12)) for day in (4, 5)]
    for n, deployment in enumerate(made, start=1):
        count_faces(deployment, at(2025, 3, 3 + n, 10), 1000 * n)
    with django_assert_max_num_queries(10) as few:
        first = deployments_figures_published(deployment_ids=[d.pk for d in made] + [987654])
    assert set(first) == {d.pk for d in made}  # the unknown id left out
    assert [first[d.pk].faces for d in made] == [1000, 2000]
    assert first[made[0].pk] == deployment_figures_published(deployment_id=made[0].pk)
    more = made + [make_live(f"Day {day}", at(2025, 3, day, 9), at(2025, 3, day, 12)) for day in (6, 7, 8)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(deployments_figures_published(deployment_ids=[d.pk for d in more])) == 5
