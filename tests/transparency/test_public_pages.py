"""The public pages: no sign-in, only announced and ended deployments, and nothing that names or shows anyone."""

import pytest
from django.urls import reverse

from reports.selectors import deployment_figures_published
from transparency.services import public_notice_save

pytestmark = pytest.mark.django_db


def _assert_nothing_secret(html: str, world) -> None:
    for secret in world.secrets:
        assert secret not in html, f"{secret!r} is on a public page"
    assert "<img" not in html


def _ids(html: str, testid: str) -> set[int]:
    import re

    return {int(pk) for pk in re.findall(rf'data-testid="{testid}" data-deployment="(\d+)"', html)}


def test_anyone_reads_the_page_without_signing_in(client, public_world):
    response = client.get(reverse("transparency:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert _ids(html, "upcoming-entry") == {public_world.upcoming.pk, public_world.live.pk}
    assert _ids(html, "record-entry") == {public_world.completed.pk, public_world.stopped.pk}
    _assert_nothing_secret(html, public_world)
    assert "Set-Cookie" not in response.headers and "csrftoken" not in response.cookies
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]


def test_drafts_submitted_rejected_and_cancelled_deployments_never_appear(client, public_world):
    html = client.get(reverse("transparency:index")).content.decode()
    hidden = (public_world.draft, public_world.submitted, public_world.rejected, public_world.cancelled)
    for deployment in hidden:
        assert deployment.location not in html
        for name in ("transparency:deployment", "transparency:signage"):
            assert client.get(reverse(name, args=[deployment.pk])).status_code == 404


def test_the_notice_is_the_written_one_else_the_defaults(client, detective, settings, public_world):
    settings.PUBLIC_NOTICE_CONTACT = "Ring 101 for the LFR team"
    html = client.get(reverse("transparency:deployment", args=[public_world.upcoming.pk])).content.decode()
    assert public_world.upcoming.location in html and "Crime hotspot" in html and "Ring 101 for the LFR team" in html

    public_notice_save(actor=detective, deployment=public_world.upcoming, area="Market Square, north side",
                       purpose="To find people <script>alert(1)</script> wanted for robbery",
                       more_info="Ask at Central police station", more_info_url="https://police.example/lfr")
    html = client.get(reverse("transparency:deployment", args=[public_world.upcoming.pk])).content.decode()
    assert "Market Square, north side" in html and "Ask at Central police station" in html
    assert 'href="https://police.example/lfr"' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    _assert_nothing_secret(html, public_world)


def test_a_past_deployment_shows_its_published_record(client, public_world):
    figures = deployment_figures_published(deployment_id=public_world.completed.pk)
    assert figures.faces == 1234 and figures.tracks == 87 and figures.alerts == 1  # what the fixture recorded
    html = client.get(reverse("transparency:deployment", args=[public_world.completed.pk])).content.decode()
    for key, value in {"faces": 1234, "tracks": 87, "alerts": 1, "watchlist_size": figures.watchlist_size,
                       "true_alerts": figures.outcomes.confirmed, "false_alerts": figures.outcomes.not_a_match,
                       "engagements": figures.engagements, "stops": figures.stops,
                       "false_alert_engagements": figures.false_alert_engagements, "arrests": figures.arrests}.items():
        assert f'data-figure="{key}">{value}<' in html, key
    for row in figures.arrests_by_category.counts:
        assert row.label in html
    assert 'data-testid="signage-link"' not in html  # no signage once it has ended
    _assert_nothing_secret(html, public_world)


def test_the_printable_notice_for_the_site(client, settings, public_world):
    settings.FORCE_NAME = "Exampleshire Police"
    response = client.get(reverse("transparency:signage", args=[public_world.upcoming.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Police are using live facial recognition in this area" in html
    assert "Exampleshire Police" in html and public_world.upcoming.location in html
    assert "not on the watchlist are deleted immediately" in html
    assert "css/signage.css" in html and "style=" not in html and "<style" not in html
    _assert_nothing_secret(html, public_world)
    assert client.get(reverse("transparency:signage", args=[public_world.completed.pk])).status_code == 404


def test_a_signed_in_caller_is_answered_privately(client_as, detective, public_world):
    client = client_as(detective)
    response = client.get(reverse("transparency:index"))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"].replace("private", "")


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_records(client, commander, public_world,
                                                                       django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deployments.services import deployment_stop

    with django_assert_max_num_queries(16):
        assert client.get(reverse("transparency:index")).status_code == 200
    with CaptureQueriesContext(connection) as two_records:
        client.get(reverse("transparency:index"))
    deployment_stop(actor=commander, deployment=public_world.live, reason="Operation over")  # a third record
    with CaptureQueriesContext(connection) as three_records:
        html = client.get(reverse("transparency:index")).content.decode()
    assert f'data-testid="record-entry" data-deployment="{public_world.live.pk}"' in html
    assert len(three_records) == len(two_records)


def test_a_bad_page_number_is_not_an_error(client, public_world):
    assert client.get(reverse("transparency:index"), {"page": "zz"}).status_code == 200
    assert client.head(reverse("transparency:index")).status_code == 200
    for name in ("transparency:index", "transparency:atom_feed", "transparency:json_feed"):
        assert client.post(reverse(name)).status_code == 405

