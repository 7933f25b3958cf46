"""Deployment pages: list, plan/edit form, detail with its checklist, authorise/reject, kill switch, record."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from bench.world import documents_attach
from deployments.models import Deployment, PostDeploymentRecord
from deployments.services import deployment_authorise, deployment_create, deployment_stop
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db
State = Deployment.State


@pytest.fixture
def ready(detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    return {"subjects": subjects, "watchlist": approved_watchlist(detective, commander, subjects),
            "camera": video_camera(detective)}


@pytest.fixture
def draft_only(detective):
    """A draft deployment on an unapproved watchlist: enough for pages that do not authorise."""
    watchlist = watchlist_create(actor=detective, name="Op Draft", purpose="p")
    camera = video_camera(detective)
    starts = timezone.now() + dt.timedelta(hours=1)
    return deployment_create(actor=detective, name="Market Day", purpose="crime_hotspot", location="Market Square",
                             location_reason="Hotspot", starts_at=starts, ends_at=starts + dt.timedelta(hours=3),
                             watchlist=watchlist, cameras=[camera], necessity_statement="Needed",
                             dpia_reference="DPIA-1", threshold=0.5)


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def form_data(watchlist, cameras, officers=(), **overrides) -> dict:
    starts = timezone.now() + dt.timedelta(hours=2)
    values = {"name": "Stratford Saturday", "purpose": "crime_hotspot", "location": "Stratford Broadway",
              "location_reason": "Robbery hotspot; the watchlist holds the series suspects",
              "starts_at": local(starts), "ends_at": local(starts + dt.timedelta(hours=4)),
              "cameras": [c.pk for c in cameras], "watchlist": watchlist.pk, "threshold": "0.6",
              "necessity_statement": "Serious robbery series; less intrusive means tried", "dpia_reference": "DPIA-2026-07",
              "signage_confirmed": "on", "public_notice_confirmed": "on", "officers": [o.pk for o in officers]}
    return values | overrides


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("name, args", [("deployments:list", []), ("deployments:detail", [1]),
                                        ("deployments:create", []), ("deployments:authorisation_queue", [])])
def test_anonymous_users_are_sent_to_the_login_page(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["detective", "commander", "oversight"])
def test_list_and_detail_render_for_planners_commanders_and_oversight(request, client_as, draft_only, role):
    client = client_as(request.getfixturevalue(role))
    listing = client.get(reverse("deployments:list"))
    assert listing.status_code == 200 and "Market Day" in html(listing) and "badge-draft" in html(listing)
    detail = client.get(reverse("deployments:detail", args=[draft_only.pk]))
    assert detail.status_code == 200 and "Market Square" in html(detail) and "DPIA-1" in html(detail)


@pytest.mark.parametrize("role", ["administrator", "outsider"])
def test_deployment_pages_are_forbidden_to_other_roles(request, client_as, draft_only, role):
    client = client_as(request.getfixturevalue(role))
    assert client.get(reverse("deployments:list")).status_code == 403
    assert client.get(reverse("deployments:detail", args=[draft_only.pk])).status_code == 403


def test_officers_see_only_the_deployments_they_are_assigned_to(client_as, officer, make_user, draft_only):
    client = client_as(officer)
    assert "Market Day" not in html(client.get(reverse("deployments:list")))
    assert client.get(reverse("deployments:detail", args=[draft_only.pk])).status_code == 404
    draft_only.officers.add(officer)
    assert "Market Day" in html(client.get(reverse("deployments:list")))
    page = client.get(reverse("deployments:detail", args=[draft_only.pk]))
    assert page.status_code == 200
    assert not any(page.context["actions"].values())  # officers see, they do not plan or decide
    assert client.get(reverse("deployments:create")).status_code == 403


def test_the_plan_form_is_for_planners(client_as, detective, commander, oversight, officer):
    page = client_as(detective).get(reverse("deployments:create"))
    assert page.status_code == 200 and "The floor is 0.40" in html(page)
    for user in (commander, oversight, officer):
        assert client_as(user).get(reverse("deployments:create")).status_code == 403


def test_watchlist_choices_list_approved_ones_first(client_as, detective, commander, ready):
    watchlist_create(actor=detective, name="AAA draft list", purpose="p")
    form = client_as(detective).get(reverse("deployments:create")).context["form"]
    names = [w.name for w in form.fields["watchlist"].queryset]
    assert names == ["Op Lantern", "AAA draft list"]


def test_planner_drafts_a_deployment_through_the_form(client_as, detective, officer, make_user, ready):
    not_an_officer = make_user(Role.DETECTIVE)
    data = form_data(ready["watchlist"], [ready["camera"]], officers=[officer])
    response = client_as(detective).post(reverse("deployments:create"), data)
    deployment = Deployment.objects.get(name="Stratford Saturday")
    assert response.status_code == 302 and response.url == reverse("deployments:detail", args=[deployment.pk])
    assert deployment.state == State.DRAFT and deployment.threshold == 0.6
    assert list(deployment.cameras.all()) == [ready["camera"]] and list(deployment.officers.all()) == [officer]
    assert local(deployment.starts_at) == data["starts_at"]
    assert deployment.signage_confirmed and deployment.public_notice_confirmed
    assert AuditEvent.objects.get(action="deployment.created").client_ip == "127.0.0.1"
    # Only users holding the officer role can be assigned.
    bad = client_as(detective).post(reverse("deployments:create"),
                                    form_data(ready["watchlist"], [ready["camera"]], officers=[not_an_officer]))
    assert bad.status_code == 400 and Deployment.objects.count() == 1


def test_a_window_ending_before_it_starts_is_refused_with_the_services_words(client_as, detective, ready):
    data = form_data(ready["watchlist"], [ready["camera"]])
    data["ends_at"] = data["starts_at"]
    response = client_as(detective).post(reverse("deployments:create"), data)
    assert response.status_code == 400 and "the deployment must end after it starts" in html(response)
    assert not Deployment.objects.exists()


def test_edit_with_the_current_version_saves_and_a_stale_one_is_a_409(client_as, detective, draft_only):
    client = client_as(detective)
    form = client.get(reverse("deployments:edit", args=[draft_only.pk])).context["form"]
    assert form["version"].value() == draft_only.version
    data = {"name": draft_only.name, "purpose": draft_only.purpose, "location": draft_only.location,
            "location_reason": draft_only.location_reason, "starts_at": local(draft_only.starts_at),
            "ends_at": local(draft_only.ends_at), "cameras": [c.pk for c in draft_only.cameras.all()],
            "watchlist": draft_only.watchlist_id, "threshold": "0.55", "necessity_statement": "Needed",
            "dpia_reference": "DPIA-1", "version": draft_only.version}
    response = client.post(reverse("deployments:edit", args=[draft_only.pk]), data)
    assert response.status_code == 302
    assert Deployment.objects.get(pk=draft_only.pk).threshold == 0.55
    assert AuditEvent.objects.get(action="deployment.updated").details["fields"] == ["threshold"]

    stale = client.post(reverse("deployments:edit", args=[draft_only.pk]), data | {"threshold": "0.7"})
    assert stale.status_code == 409 and "was changed by someone else since you opened it" in html(stale)
    assert Deployment.objects.get(pk=draft_only.pk).threshold == 0.55


def test_submit_then_the_commander_sees_the_checklist_and_authorises(client_as, detective, commander, ready):
    deployment = deployment_create(
        actor=detective, name="High Street", purpose="crime_hotspot", location="High Street", location_reason="Hotspot",
        starts_at=timezone.now() + dt.timedelta(minutes=10), ends_at=timezone.now() + dt.timedelta(hours=3),
        watchlist=ready["watchlist"], cameras=[ready["camera"]], necessity_statement="Needed", dpia_reference="DPIA-9",
        signage_confirmed=True, public_notice_confirmed=True)
    documents_attach(detective, deployment)
    assert client_as(detective).post(reverse("deployments:submit", args=[deployment.pk])).status_code == 302
    assert Deployment.objects.get(pk=deployment.pk).state == State.SUBMITTED

    client = client_as(commander)
    queue = client.get(reverse("deployments:authorisation_queue"))
    assert [d.pk for d in queue.context["deployments"]] == [deployment.pk]
    page = client.get(reverse("deployments:detail", args=[deployment.pk]))
    assert page.context["problems"] == [] and "nothing stands in the way" in html(page)
    assert page.context["actions"]["decide"]

    response = client.post(reverse("deployments:authorise", args=[deployment.pk]),
                           {"reasons": "Necessary and proportionate for the robbery series"})
    assert response.status_code == 302
    page = client.get(reverse("deployments:detail", args=[deployment.pk]))
    assert page.context["deployment"].state == State.AUTHORISED
    snapshot = page.context["snapshot"]
    assert snapshot.subject_count == 2 and snapshot.reference_count == 2
    assert snapshot.model_id in html(page) and page.context["manifest_count"] == 2
    assert "Necessary and proportionate for the robbery series" in html(page)  # the authorisation record
    assert [t.to_state for t in page.context["transitions"]] == ["draft", "submitted", "authorised"]


def test_a_threshold_below_the_floor_shows_on_the_checklist_and_is_refused(client_as, detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]], threshold=0.3)
    client = client_as(commander)
    page = client.get(reverse("deployments:detail", args=[deployment.pk]))
    assert "the threshold 0.30 is below the floor of 0.40" in page.context["problems"]
    assert "the threshold 0.30 is below the floor of 0.40" in html(page)
    response = client.post(reverse("deployments:authorise", args=[deployment.pk]), {"reasons": "ok"})
    assert response.status_code == 400 and "the threshold 0.30 is below the floor of 0.40" in html(response)
    assert Deployment.objects.get(pk=deployment.pk).state == State.SUBMITTED


def test_nobody_authorises_their_own_submission(client_as, make_user, detective, commander, ready):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    deployment = submitted_deployment(both, ready["watchlist"], [ready["camera"]])
    client = client_as(both)
    page = client.get(reverse("deployments:detail", args=[deployment.pk]))
    assert not page.context["actions"]["decide"] and "another authorising officer must decide" in html(page)
    response = client.post(reverse("deployments:authorise", args=[deployment.pk]), {"reasons": "ok"})
    assert response.status_code == 400 and "another authorising officer must decide" in html(response)
    assert Deployment.objects.get(pk=deployment.pk).state == State.SUBMITTED


def test_planners_cannot_authorise(client_as, detective, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    assert client_as(detective).post(reverse("deployments:authorise", args=[deployment.pk]),
                                     {"reasons": "ok"}).status_code == 403


def test_reject_needs_reasons(client_as, detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    client = client_as(commander)
    refused = client.post(reverse("deployments:reject", args=[deployment.pk]), {"reasons": ""})
    assert refused.status_code == 400 and "record the reasons for the rejection" in html(refused)
    response = client.post(reverse("deployments:reject", args=[deployment.pk]), {"reasons": "DPIA out of date"})
    assert response.status_code == 302
    page = client.get(reverse("deployments:detail", args=[deployment.pk]))
    assert page.context["deployment"].state == State.REJECTED and "DPIA out of date" in html(page)


def test_the_kill_switch_stops_an_authorised_deployment(client_as, detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    assert 'data-testid="stop-button"' not in html(client_as(detective).get(reverse("deployments:detail", args=[deployment.pk])))
    assert client_as(detective).post(reverse("deployments:stop", args=[deployment.pk]), {"reason": "x"}).status_code == 403

    client = client_as(commander)
    page = client.get(reverse("deployments:detail", args=[deployment.pk]))
    assert 'data-testid="stop-button"' in html(page) and "data-confirm=" in html(page)
    response = client.post(reverse("deployments:stop", args=[deployment.pk]), {"reason": "Crowd disorder"})
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert deployment.state == State.STOPPED and deployment.ended_at is not None
    assert AuditEvent.objects.get(action="deployment.stopped").details == {"reason": "Crowd disorder"}
    again = client.post(reverse("deployments:stop", args=[deployment.pk]), {"reason": "again"})
    assert again.status_code == 400 and "only a live or authorised deployment can be stopped" in html(again)


def test_the_post_deployment_record_is_written_after_the_end(client_as, detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    client = client_as(commander)
    early = client.post(reverse("deployments:post_record", args=[deployment.pk]),
                        {"outcomes": "x", "engagements": 0, "arrests": 0})
    assert early.status_code == 400 and "after the deployment has ended" in html(early)

    deployment_stop(actor=commander, deployment=deployment, reason="done")
    response = client.post(reverse("deployments:post_record", args=[deployment.pk]),
                           {"outcomes": "Two engagements, one arrest", "engagements": 2, "arrests": 1})
    assert response.status_code == 302
    record = PostDeploymentRecord.objects.get(deployment=deployment)
    assert (record.engagements, record.arrests, record.written_by) == (2, 1, commander)
    negative = client.post(reverse("deployments:post_record", args=[deployment.pk]),
                           {"outcomes": "x", "engagements": -1, "arrests": 0})
    assert negative.status_code == 400 and "counts cannot be negative" in html(negative)


def test_planner_cancels_a_draft(client_as, detective, oversight, draft_only):
    assert client_as(oversight).post(reverse("deployments:cancel", args=[draft_only.pk]), {"reason": "x"}).status_code == 403
    response = client_as(detective).post(reverse("deployments:cancel", args=[draft_only.pk]), {"reason": "Event called off"})
    assert response.status_code == 302
    assert Deployment.objects.get(pk=draft_only.pk).state == State.CANCELLED


def test_commander_assigns_officers(client_as, commander, officer, draft_only):
    response = client_as(commander).post(reverse("deployments:officers", args=[draft_only.pk]), {"officers": [officer.pk]})
    assert response.status_code == 302 and list(draft_only.officers.all()) == [officer]


def test_authorisation_queue_is_for_authorising_officers(client_as, detective, oversight):
    assert client_as(detective).get(reverse("deployments:authorisation_queue")).status_code == 403
    assert client_as(oversight).get(reverse("deployments:authorisation_queue")).status_code == 403


def test_the_list_query_count_does_not_grow_with_rows(client_as, detective, draft_only, django_assert_max_num_queries):
    client = client_as(detective)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("deployments:list")).status_code == 200
        return len(queries)

    before = count()
    for i in range(30):
        deployment_create(actor=detective, name=f"D{i}", purpose="crime_hotspot", location="L", location_reason="R",
                          starts_at=draft_only.starts_at, ends_at=draft_only.ends_at, watchlist=draft_only.watchlist,
                          cameras=list(draft_only.cameras.all()), necessity_statement="N", dpia_reference="D")
    assert count() == before
    with django_assert_max_num_queries(20):
        client.get(reverse("deployments:detail", args=[draft_only.pk]))


def test_the_planner_sees_each_cameras_masked_source_the_authorising_officer_none(client_as, detective, commander,
                                                                                  ready):
    from deployments.services import camera_create

    gate = camera_create(actor=detective, name="Gate", source_url="rtsp://admin:S3cretCamPass@10.0.0.7:554/live",
                         location="Gate B")
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"], gate])
    page = client_as(detective).get(reverse("deployments:detail", args=[deployment.pk]))
    shown = [camera.display_source for camera in page.context["cameras"]]
    assert shown == [ready["camera"].source_url, "rtsp://admin:\u2022\u2022\u2022@10.0.0.7:554/live"]
    assert all(f'<code data-testid="camera-source">{source}</code>' in html(page) for source in shown)
    assert "S3cretCamPass" not in html(page)

    page = client_as(commander).get(reverse("deployments:detail", args=[deployment.pk]))
    assert page.context["actions"]["decide"]
    assert "Gate" in html(page) and "Gate B" in html(page)
    assert 'data-testid="camera-source"' not in html(page) and "10.0.0.7" not in html(page)
