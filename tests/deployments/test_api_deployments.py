"""API: deployments, from the draft through authorisation to the record afterwards."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from bench.world import placeholder_pdf
from deployments.models import Deployment, SnapshotReference
from deployments.services import deployment_authorise, deployments_tick
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from watchlists.models import Watchlist
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db
State = Deployment.State


@pytest.fixture
def ready(detective, commander, settings, tmp_path):
    """An approved, just reviewed watchlist with two enrolled subjects and an enabled file camera."""
    settings.CAMERA_FILE_ROOT = tmp_path
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    return {"subjects": subjects, "watchlist": approved_watchlist(detective, commander, subjects),
            "camera": video_camera(detective)}


def draft_body(ready, **overrides) -> dict:
    starts_at = timezone.now() + dt.timedelta(hours=1)
    return {"name": "High Street Saturday", "purpose": "crime_hotspot", "location": "High Street",
            "location_reason": "Robbery hotspot; the watchlist holds the robbery series suspects",
            "starts_at": starts_at.isoformat(), "ends_at": (starts_at + dt.timedelta(hours=4)).isoformat(),
            "watchlist": ready["watchlist"].pk, "cameras": [ready["camera"].pk],
            "necessity_statement": "Serious robbery series, less intrusive means exhausted",
            "dpia_reference": "DPIA-2026-07", "signage_confirmed": True, "public_notice_confirmed": True} | overrides


def test_the_whole_path_from_draft_to_authorised(api_as, detective, commander, officer, ready):
    planner = api_as(detective)
    created = planner.post("/api/deployments/", draft_body(ready, officers=[officer.pk]), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    url = created["Location"]
    assert url == f"/api/deployments/{body['id']}/"
    assert body["state"] == "draft" and body["threshold"] == 0.45 and body["camera_count"] == 1
    assert [c["id"] for c in body["cameras"]] == [ready["camera"].pk]
    assert body["officers"] == [{"id": officer.pk, "username": officer.username}]
    assert body["snapshot"] is None and body["authorisations"] == [] and body["post_record"] is None

    assert len(planner.get(f"{url}authorisation-problems").json()["problems"]) == 3  # the documents
    for kind in ("dpia", "eia", "apd"):
        document = SimpleUploadedFile(f"{kind}.pdf", placeholder_pdf(kind), content_type="application/pdf")
        uploaded = planner.post(f"{url}documents/", {"kind": kind, "file": document}, format="multipart")
        assert uploaded.status_code == 201, uploaded.content
    assert planner.post(f"{url}submit").json()["state"] == "submitted"
    assert planner.get(f"{url}authorisation-problems").json() == {"problems": []}
    refused = planner.post(f"{url}authorise", {"reasons": "mine"}, format="json")
    assert refused.status_code == 403

    authoriser = api_as(commander)
    assert [d["id"] for d in authoriser.get("/api/deployments/authorisation-queue/").json()["results"]] == [body["id"]]
    assert authoriser.post(f"{url}authorise", {}, format="json").json() == {"reasons": ["This field is required."]}
    authorised = authoriser.post(f"{url}authorise", {"reasons": "Necessary and proportionate"}, format="json",
                                 REMOTE_ADDR="192.0.2.20")
    assert authorised.status_code == 200, authorised.content
    result = authorised.json()
    assert result["state"] == "authorised"
    assert result["snapshot"]["subject_count"] == 2 and result["snapshot"]["reference_count"] == 2
    assert "embedding" not in str(result)
    assert result["authorisations"][0] | {"decided_at": None} == {
        "decision": "authorised", "decided_by": commander.username, "decided_at": None,
        "reasons": "Necessary and proportionate", "threshold": 0.45, "watchlist_size": 2,
        "documents": result["authorisations"][0]["documents"]}
    assert [(d["kind"], d["version"]) for d in result["authorisations"][0]["documents"]] == [
        ("dpia", 1), ("eia", 1), ("apd", 1)]
    event = AuditEvent.objects.get(action="deployment.authorised")
    assert event.actor == commander and event.client_ip == "192.0.2.20" and event.deployment_id == body["id"]
    assert SnapshotReference.objects.count() == 2
    assert authoriser.get("/api/deployments/authorisation-queue/").json()["count"] == 0


def test_nobody_authorises_their_own_submission(api_as, make_user, ready):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    client = api_as(both)
    url = client.post("/api/deployments/", draft_body(ready), format="json")["Location"]
    client.post(f"{url}submit")
    response = client.post(f"{url}authorise", {"reasons": "ok"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": [
        "you planned or submitted this deployment, so another authorising officer must decide"]}
    assert Deployment.objects.get().state == State.SUBMITTED
    assert client.get("/api/deployments/authorisation-queue/").json()["count"] == 0


@pytest.mark.parametrize("role", ["detective", "officer", "oversight", "outsider"])
def test_only_authorising_officers_authorise(request, api_as, detective, ready, role):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment.officers.add(request.getfixturevalue("officer"))
    response = api_as(request.getfixturevalue(role)).post(f"/api/deployments/{deployment.pk}/authorise",
                                                         {"reasons": "ok"}, format="json")
    assert response.status_code in (403, 404)  # the outsider may not even see it
    assert Deployment.objects.get(pk=deployment.pk).state == State.SUBMITTED


def test_a_threshold_below_the_floor_is_refused_with_every_problem(api_as, detective, commander, ready, settings):
    low = settings.DEPLOYMENT_THRESHOLD_FLOOR - 0.05
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]], threshold=low,
                                      signage_confirmed=False)
    url = f"/api/deployments/{deployment.pk}/"
    floor_problem = f"the threshold {low:.2f} is below the floor of {settings.DEPLOYMENT_THRESHOLD_FLOOR:.2f}"
    assert api_as(commander).get(f"{url}authorisation-problems").json() == {
        "problems": [floor_problem, "signage has not been confirmed"]}
    response = api_as(commander).post(f"{url}authorise", {"reasons": "ok"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": [floor_problem, "signage has not been confirmed"]}
    assert Deployment.objects.get(pk=deployment.pk).state == State.SUBMITTED and not SnapshotReference.objects.exists()


def test_a_stale_watchlist_review_blocks_authorisation(api_as, detective, commander, ready, settings):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    Watchlist.objects.filter(pk=ready["watchlist"].pk).update(
        reviewed_at=timezone.now() - dt.timedelta(days=settings.WATCHLIST_REVIEW_MAX_AGE_DAYS + 1))
    response = api_as(commander).post(f"/api/deployments/{deployment.pk}/authorise", {"reasons": "ok"}, format="json")
    assert response.status_code == 400 and "last reviewed more than" in response.json()["errors"][0]


def test_edit_with_the_version_and_stale_edits_are_refused(api_as, detective, ready):
    client = api_as(detective)
    created = client.post("/api/deployments/", draft_body(ready), format="json").json()
    url = f"/api/deployments/{created['id']}/"
    edited = client.patch(url, {"expected_version": created["version"], "threshold": 0.5, "name": "Renamed"},
                          format="json")
    assert edited.status_code == 200, edited.content
    assert (edited.json()["threshold"], edited.json()["name"]) == (0.5, "Renamed")
    assert edited.json()["version"] == created["version"] + 1

    stale = client.patch(url, {"expected_version": created["version"], "threshold": 0.6}, format="json")
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["errors"][0]
    assert Deployment.objects.get(pk=created["id"]).threshold == 0.5

    version = edited.json()["version"]
    backwards = client.patch(url, {"expected_version": version, "ends_at": timezone.now().isoformat()},
                             format="json")
    assert backwards.json() == {"errors": ["the deployment must end after it starts"]}
    unknown = client.patch(url, {"expected_version": version, "cameras": [999999]}, format="json")
    assert unknown.json() == {"errors": ["no such camera: 999999"]}

    client.post(f"{url}submit")
    locked = client.patch(url, {"expected_version": version + 1, "name": "Too late"}, format="json")
    assert locked.json() == {"errors": ["a submitted for authorisation deployment cannot be edited"]}


def test_create_refers_to_existing_objects(api_as, detective, officer, ready):
    client = api_as(detective)
    assert client.post("/api/deployments/", draft_body(ready, cameras=[999999]), format="json").json() == {
        "errors": ["no such camera: 999999"]}
    assert client.post("/api/deployments/", draft_body(ready, watchlist=999999), format="json").json() == {
        "errors": ["no such watchlist: 999999"]}
    assert client.post("/api/deployments/", draft_body(ready, cameras=[]), format="json").status_code == 400
    assert api_as(officer).post("/api/deployments/", draft_body(ready), format="json").status_code == 403
    assert not Deployment.objects.exists()


def test_reject_then_edit_returns_to_draft(api_as, detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    url = f"/api/deployments/{deployment.pk}/"
    rejected = api_as(commander).post(f"{url}reject", {"reasons": "Location reason too vague"}, format="json")
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["authorisations"][0]["reasons"] == "Location reason too vague"
    version = rejected.json()["version"]
    edited = api_as(detective).patch(url, {"expected_version": version, "location_reason": "Better reason"},
                                     format="json")
    assert edited.json()["state"] == "draft"


def test_kill_switch_and_the_record_afterwards(api_as, detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    url = f"/api/deployments/{deployment.pk}/"
    record = {"outcomes": "Two engagements, one arrest", "engagements": 2, "arrests": 1}
    assert api_as(commander).put(f"{url}post-record", record, format="json").json() == {
        "errors": ["the post-deployment record is written after the deployment has ended"]}

    assert api_as(detective).post(f"{url}stop", {"reasons": "not theirs"}, format="json").status_code == 403
    stopped = api_as(commander).post(f"{url}stop", {"reasons": "Crowd disorder nearby"}, format="json")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert AuditEvent.objects.get(action="deployment.stopped").details == {"reason": "Crowd disorder nearby"}
    assert api_as(commander).post(f"{url}stop", {}, format="json").json() == {
        "errors": ["only a live or authorised deployment can be stopped"]}

    assert api_as(commander).get(f"{url}post-record").status_code == 404
    assert api_as(detective).put(f"{url}post-record", record, format="json").status_code == 403
    assert api_as(commander).put(f"{url}post-record", record | {"arrests": -1}, format="json").status_code == 400
    saved = api_as(commander).put(f"{url}post-record", record, format="json")
    assert saved.status_code == 200 and saved.json()["written_by"] == commander.username
    assert api_as(detective).get(f"{url}post-record").json()["arrests"] == 1
    assert api_as(detective).get(url).json()["post_record"]["outcomes"] == "Two engagements, one arrest"


def test_a_stop_needs_no_reason(api_as, detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    response = api_as(commander).post(f"/api/deployments/{deployment.pk}/stop")
    assert response.status_code == 200 and response.json()["state"] == "stopped"


def test_cancel(api_as, detective, commander, officer, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment.officers.add(officer)
    url = f"/api/deployments/{deployment.pk}/cancel"
    assert api_as(officer).post(url, {"reasons": "x"}, format="json").status_code == 403
    cancelled = api_as(detective).post(url, {"reasons": "Event postponed"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert api_as(detective).post(url, {"reasons": "again"}, format="json").json() == {
        "errors": ["a cancelled deployment cannot be cancelled"]}


def test_officers_see_only_the_deployments_they_are_assigned_to(api_as, detective, commander, officer, ready):
    mine = submitted_deployment(detective, ready["watchlist"], [ready["camera"]], name="Assigned")
    other = submitted_deployment(detective, ready["watchlist"], [ready["camera"]], name="Not assigned")
    assigned = api_as(commander).put(f"/api/deployments/{mine.pk}/officers", {"officers": [officer.pk]},
                                     format="json")
    assert assigned.status_code == 200 and assigned.json()["officers"][0]["username"] == officer.username
    client = api_as(officer)
    assert [d["name"] for d in client.get("/api/deployments/").json()["results"]] == ["Assigned"]
    assert client.get(f"/api/deployments/{other.pk}/").status_code == 404
    assert client.put(f"/api/deployments/{mine.pk}/officers", {"officers": []}, format="json").status_code == 403
    assert api_as(commander).put(f"/api/deployments/{mine.pk}/officers", {"officers": [999999]},
                                 format="json").json() == {"errors": ["no such user: 999999"]}


def test_the_list_is_paginated_with_bounded_queries(api_as, detective, oversight, django_assert_max_num_queries,
                                                    settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path
    watchlist = watchlist_create(actor=detective, name="W", purpose="p")
    camera = video_camera(detective)
    now = timezone.now()

    def drafts(count):
        rows = Deployment.objects.bulk_create([Deployment(
            name=f"D{i}", purpose="crime_hotspot", location="L", location_reason="r", starts_at=now,
            ends_at=now + dt.timedelta(hours=1), watchlist=watchlist, threshold=0.45, necessity_statement="n",
            dpia_reference="d", created_by=detective) for i in range(count)])
        Deployment.cameras.through.objects.bulk_create(
            [Deployment.cameras.through(deployment=d, camera=camera) for d in rows])

    client = api_as(oversight)
    drafts(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/deployments/").json()["count"] == 2
    drafts(70)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/api/deployments/").json()
    assert page["count"] == 72 and len(page["results"]) == 50
    assert page["results"][0]["camera_count"] == 1 and page["results"][0]["watchlist_name"] == "W"


def test_a_submitted_deployment_cannot_be_submitted_again(api_as, detective, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    response = api_as(detective).post(f"/api/deployments/{deployment.pk}/submit")
    assert response.json() == {
        "errors": ["only a draft can be submitted; this deployment is submitted for authorisation"]}
