"""API: watchlists (create, subjects, cap, approval), authentication and the error format."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import enrolled_subject
from watchlists.models import InclusionCategory, Subject, Watchlist
from watchlists.services import subject_create, watchlist_create, watchlist_subjects_add, watchlist_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def plain_subjects(actor, count: int, start: int = 0) -> list[Subject]:
    """Subjects without images, straight into the table: fast, for list and cap tests."""
    today = timezone.localdate()
    return Subject.objects.bulk_create([
        Subject(reference=f"BULK-{i:05d}", name=f"Person {i:05d}", category=InclusionCategory.WANTED_BY_COURTS,
                reason="Warrant", legal_basis="Warrant W-1", engagement_instructions="Arrest on warrant W-1",
                added_by=actor,
                review_date=today + dt.timedelta(days=90), expires_on=today + dt.timedelta(days=365))
        for i in range(start, start + count)])


def list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries.captured_queries)


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Harbour", purpose="Missing persons at the harbour festival")


# --- authentication -------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/watchlists/", "/api/subjects/", "/api/deployments/", "/api/cameras/",
                                 "/api/reference-images/1/file", "/api/imports/1"])
def test_anonymous_calls_get_json_403_not_a_login_redirect(api, url):
    response = api.get(url)
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_token_authenticates_without_session_or_csrf(detective):
    token = Token.objects.create(user=detective)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post("/api/watchlists/", {"name": "Op Token", "purpose": "Robbery series"}, format="json",
                           REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="watchlist.created")
    assert event.actor == detective and event.client_ip == "192.0.2.44"


def test_a_bad_token_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/watchlists/")
    assert response.status_code in (401, 403) and response.json() == {"detail": "Invalid token."}


def test_session_calls_that_change_things_need_the_csrf_token(detective):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(detective)
    response = client.post("/api/watchlists/", {"name": "Op CSRF", "purpose": "p"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Watchlist.objects.exists()
    assert client.get("/api/watchlists/").status_code == 200  # reads need no token


# --- watchlists ---------------------------------------------------------------------------------

def test_detective_creates_a_draft_watchlist(api_as, detective):
    response = api_as(detective).post("/api/watchlists/", {"name": "Op Lantern", "purpose": "Violent crime"},
                                      format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["compiled_by"] == detective.username and body["subject_count"] == 0
    assert response["Location"] == f"/api/watchlists/{body['id']}/"
    assert api_as(detective).get(response["Location"]).json()["name"] == "Op Lantern"


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "administrator", "outsider"])
def test_other_roles_cannot_create_watchlists(request, api_as, role):
    response = api_as(request.getfixturevalue(role)).post("/api/watchlists/", {"name": "X", "purpose": "Y"},
                                                         format="json")
    assert response.status_code == 403 and "your role does not allow this" in response.json()["detail"]
    assert not Watchlist.objects.exists()


def test_a_rule_violation_is_a_400_with_the_reason(api_as, detective):
    response = api_as(detective).post("/api/watchlists/", {"name": "  ", "purpose": "  "}, format="json")
    assert response.status_code == 400
    # blank strings are trimmed by the serializer and caught as missing fields
    assert set(response.json()) == {"name", "purpose"}


@pytest.mark.parametrize("role", ["officer", "administrator", "outsider"])
def test_roles_without_view_watchlist_see_nothing(request, api_as, watchlist, role):
    client = api_as(request.getfixturevalue(role))
    assert client.get("/api/watchlists/").status_code == 403
    assert client.get(f"/api/watchlists/{watchlist.pk}/").status_code == 403
    assert client.get(f"/api/watchlists/{watchlist.pk}/subjects").status_code == 403


def test_unknown_watchlist_is_404(api_as, detective):
    response = api_as(detective).get("/api/watchlists/999999/")
    assert response.status_code == 404 and response.json() == {"detail": "no such watchlist"}


def test_add_and_remove_subjects_with_the_version(api_as, detective, watchlist):
    subjects = plain_subjects(detective, 3)
    client = api_as(detective)
    url = f"/api/watchlists/{watchlist.pk}/subjects"
    response = client.post(url, {"subject_ids": [s.pk for s in subjects], "expected_version": watchlist.version},
                           format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["added"] == 3 and body["watchlist"]["subject_count"] == 3
    assert body["watchlist"]["version"] == watchlist.version + 1

    listed = client.get(url).json()
    assert listed["count"] == 3 and [s["reference"] for s in listed["results"]] == [s.reference for s in subjects]

    # A stale version: someone else changed the list since it was read.
    stale = client.post(url, {"subject_ids": [subjects[0].pk], "expected_version": watchlist.version}, format="json")
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["errors"][0]

    unknown = client.post(url, {"subject_ids": [999999], "expected_version": body["watchlist"]["version"]},
                          format="json")
    assert unknown.status_code == 400 and unknown.json() == {"errors": ["no such subject: 999999"]}

    removed = client.delete(f"{url}/{subjects[1].pk}")
    assert removed.status_code == 204
    assert sorted(watchlist.entries.values_list("subject__reference", flat=True)) == [
        subjects[0].reference, subjects[2].reference]
    again = client.delete(f"{url}/{subjects[1].pk}")
    assert again.status_code == 400 and "is not on this watchlist" in again.json()["errors"][0]


def test_expected_version_is_required_to_add_subjects(api_as, detective, watchlist):
    subject = plain_subjects(detective, 1)[0]
    response = api_as(detective).post(f"/api/watchlists/{watchlist.pk}/subjects", {"subject_ids": [subject.pk]},
                                      format="json")
    assert response.status_code == 400 and "expected_version" in response.json()


def test_the_cap_is_enforced(api_as, detective, watchlist, settings):
    settings.WATCHLIST_MAX_SUBJECTS = 3
    subjects = plain_subjects(detective, 4)
    response = api_as(detective).post(f"/api/watchlists/{watchlist.pk}/subjects",
                                      {"subject_ids": [s.pk for s in subjects], "expected_version": watchlist.version},
                                      format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "a watchlist holds at most 3 subjects; this one has 0 and 4 more were asked for"]
    assert not watchlist.entries.exists()


def test_submit_approve_and_review(api_as, detective, commander, watchlist):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[enrolled_subject(detective, 0)])
    watchlist.refresh_from_db()
    empty = watchlist_create(actor=detective, name="Empty", purpose="p")
    assert api_as(detective).post(f"/api/watchlists/{empty.pk}/submit").json() == {"errors": ["the watchlist is empty"]}

    submitted = api_as(detective).post(f"/api/watchlists/{watchlist.pk}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert api_as(detective).post(f"/api/watchlists/{watchlist.pk}/approve",
                                  {"expected_version": watchlist.version}, format="json").status_code == 403

    client = api_as(commander)
    queue = client.get("/api/watchlists/approval-queue/").json()
    assert [w["id"] for w in queue["results"]] == [watchlist.pk]
    assert client.post(f"/api/watchlists/{watchlist.pk}/approve", {}, format="json").status_code == 400
    stale = client.post(f"/api/watchlists/{watchlist.pk}/approve", {"expected_version": watchlist.version - 1},
                        format="json")
    assert stale.status_code == 409
    approved = client.post(f"/api/watchlists/{watchlist.pk}/approve", {"expected_version": watchlist.version},
                           format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] == commander.username

    reviewed = client.post(f"/api/watchlists/{watchlist.pk}/review", {"note": "Still necessary"}, format="json")
    assert reviewed.status_code == 200
    assert AuditEvent.objects.get(action="watchlist.reviewed").details == {"note": "Still necessary"}
    assert client.get("/api/watchlists/approval-queue/").json()["count"] == 0


def test_nobody_approves_their_own_watchlist(api_as, make_user):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    watchlist = watchlist_create(actor=both, name="Mine", purpose="p")
    watchlist_subjects_add(actor=both, watchlist=watchlist, subjects=plain_subjects(both, 1))
    watchlist_submit(actor=both, watchlist=watchlist)
    watchlist.refresh_from_db()
    client = api_as(both)
    assert client.get("/api/watchlists/approval-queue/").json()["count"] == 0
    response = client.post(f"/api/watchlists/{watchlist.pk}/approve", {"expected_version": watchlist.version},
                           format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": ["you compiled this watchlist, so someone else must approve it"]}
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.SUBMITTED


def test_reject_needs_reasons_and_returns_to_draft(api_as, detective, commander, watchlist):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=plain_subjects(detective, 1))
    watchlist_submit(actor=detective, watchlist=watchlist)
    client = api_as(commander)
    assert "reasons" in client.post(f"/api/watchlists/{watchlist.pk}/reject", {}, format="json").json()
    response = client.post(f"/api/watchlists/{watchlist.pk}/reject", {"reasons": "Reason for subject 1 too vague"},
                           format="json")
    assert response.status_code == 200 and response.json()["status"] == "draft"
    event = AuditEvent.objects.get(action="watchlist.returned_to_draft")
    assert event.details["why"] == "Reason for subject 1 too vague"


# --- list sizes -----------------------------------------------------------------------------------

def test_lists_are_paginated_and_their_query_count_does_not_grow(api_as, detective, django_assert_max_num_queries):
    client = api_as(detective)
    watchlist = watchlist_create(actor=detective, name="W0", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=plain_subjects(detective, 2))
    urls = ["/api/watchlists/", "/api/subjects/", f"/api/watchlists/{watchlist.pk}/subjects"]
    few = {url: list_queries(client, url) for url in urls}

    for i in range(1, 60):
        Watchlist.objects.create(name=f"W{i:02d}", purpose="p", compiled_by=detective)
    more = plain_subjects(detective, 70, start=100)
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=more)
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            page = client.get(url).json()
        assert len(page["results"]) == 50 and page["next"].endswith("?page=2")
    assert client.get("/api/watchlists/?page=2").json()["count"] == 60
    assert len(client.get(f"/api/watchlists/{watchlist.pk}/subjects?page=2").json()["results"]) == 22


def test_subject_create_shapes_the_reason_for_a_missing_field(api_as, detective):
    # Serializer errors (malformed input) are keyed by field, rule errors are a list under "errors".
    response = api_as(detective).post("/api/subjects/", {"reference": "R1"}, format="json")
    assert response.status_code == 400
    assert {"name", "category", "reason", "legal_basis"} <= set(response.json())
    subject_create(actor=detective, reference="R1", name="A", category="suspected_of_offence", reason="r",
                   legal_basis="b")
    duplicate = api_as(detective).post("/api/subjects/", {
        "reference": "R1", "name": "B", "category": "suspected_of_offence", "reason": "r", "legal_basis": "b"},
        format="json")
    assert duplicate.json() == {"errors": ["a subject with reference R1 already exists"]}
