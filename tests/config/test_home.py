"""The start page shows each role's work, from the selectors and policies that decide who sees what."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from deployments.services import deployment_stop
from tests.factories import make_subject, submitted_deployment, video_camera
from watchlists.models import Subject
from watchlists.services import watchlist_create, watchlist_subjects_add, watchlist_submit

pytestmark = pytest.mark.django_db


def _home(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response, response.content.decode()


def _section(page: str, name: str) -> str:
    marker = f'data-testid="home-{name}"'
    return page.split(marker)[1].split("</section>")[0] if marker in page else ""


def test_the_detective_sees_their_drafts_and_reviews_due(client_as, detective, make_user):
    other = make_user(Role.DETECTIVE)
    mine = watchlist_create(actor=detective, name="Op Draft", purpose="Robbery series")
    watchlist_create(actor=other, name="Op Someone Else", purpose="Not mine")
    due = make_subject(detective, reference="PNC-DUE")
    Subject.objects.filter(pk=due.pk).update(review_date=timezone.localdate() - dt.timedelta(days=1))
    make_subject(detective, reference="PNC-LATER")
    _, page = _home(client_as(detective))
    section = _section(page, "detective")
    assert reverse("watchlists:detail", args=[mine.pk]) in section and "Op Someone Else" not in section
    assert reverse("watchlists:subject_detail", args=[due.pk]) in section and "PNC-LATER" not in section
    assert not _section(page, "commander") and not _section(page, "officer")


def test_the_commander_sees_what_waits_for_their_decision(client_as, detective, commander, live_deployment):
    waiting = watchlist_create(actor=detective, name="Op Waiting", purpose="Burglary")
    watchlist_subjects_add(actor=detective, watchlist=waiting, subjects=[make_subject(detective)])
    watchlist_submit(actor=detective, watchlist=waiting)
    deployment = submitted_deployment(detective, live_deployment.watchlist, [video_camera(detective, "Camera 2")],
                                      name="Market Day", starts_in=dt.timedelta(days=1))
    _, page = _home(client_as(commander))
    section = _section(page, "commander")
    assert reverse("watchlists:detail", args=[waiting.pk]) in section
    assert reverse("deployments:detail", args=[deployment.pk]) in section
    assert reverse("deployments:detail", args=[live_deployment.pk]) not in section  # live: nothing to decide


def test_the_commander_does_not_see_their_own_submission(client_as, make_user, commander, live_deployment):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    deployment = submitted_deployment(both, live_deployment.watchlist, [video_camera(both, "Camera 2")],
                                      name="Own Plan", starts_in=dt.timedelta(days=1))
    _, page = _home(client_as(both))
    assert "Own Plan" not in _section(page, "commander")  # a second person decides
    _, page = _home(client_as(commander))
    assert reverse("deployments:detail", args=[deployment.pk]) in _section(page, "commander")


def test_the_officer_sees_their_live_deployments_and_alerts_to_decide(client_as, officer, make_user,
                                                                      live_deployment, raise_alert):
    raise_alert(0)
    raise_alert(1)
    _, page = _home(client_as(officer))
    section = _section(page, "officer")
    assert reverse("alerts:live", args=[live_deployment.pk]) in section
    assert 'data-undecided="2"' in section
    other = make_user(Role.OFFICER)
    _, page = _home(client_as(other))
    assert reverse("alerts:live", args=[live_deployment.pk]) not in _section(page, "officer")
    assert "not assigned to a live deployment" in _section(page, "officer")


def test_oversight_sees_recently_ended_deployments_with_their_report(client_as, commander, oversight, officer,
                                                                     live_deployment):
    _, page = _home(client_as(oversight))
    assert reverse("reports:deployment", args=[live_deployment.pk]) not in _section(page, "oversight")  # live
    deployment_stop(actor=commander, deployment=live_deployment, reason="Operation over")
    _, page = _home(client_as(oversight))
    assert reverse("reports:deployment", args=[live_deployment.pk]) in _section(page, "oversight")
    _, page = _home(client_as(officer))
    assert not _section(page, "oversight")  # statistics are not the officer's


def test_a_user_with_several_roles_sees_each_section_with_bounded_queries(client_as, make_user, detective,
                                                                          live_deployment, raise_alert,
                                                                          django_assert_max_num_queries):
    everyone = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER, Role.OFFICER, Role.OVERSIGHT)
    live_deployment.officers.add(everyone)
    client = client_as(everyone)
    with django_assert_max_num_queries(40) as few:
        _home(client)
    for i in range(12):
        watchlist_create(actor=everyone, name=f"Draft {i}", purpose="P")
        raise_alert(i % 2)
        subject = make_subject(everyone, reference=f"PNC-D{i}")
        Subject.objects.filter(pk=subject.pk).update(review_date=timezone.localdate())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response, page = _home(client)
    assert list(response.context["sections"]) == ["detective", "commander", "officer", "oversight"]
    assert page.count("Draft ") == 10  # the first ten; the list's page has the rest


@pytest.mark.parametrize("role", ["administrator", "outsider"])
def test_roles_without_operational_work_see_no_section(request, client_as, role):
    response, page = _home(client_as(request.getfixturevalue(role)))
    assert response.context["sections"] == {} and "home-section" not in page
