"""API: subjects (create, search, audited view, edit with expected_version)."""

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import enrolled_subject
from watchlists.models import Subject, Watchlist
from watchlists.services import watchlist_approve, watchlist_create, watchlist_subjects_add, watchlist_submit

pytestmark = pytest.mark.django_db

NEW_SUBJECT = {"reference": "PNC-01/123456A", "name": "Alex Example", "category": "wanted_by_courts",
               "reason": "Failed to appear at Crown Court; warrant issued", "legal_basis": "Warrant W-2026-1182",
               "engagement_instructions": "Arrest on warrant W-2026-1182 (Crown Court)"}


def test_detective_adds_a_subject(api_as, detective):
    response = api_as(detective).post("/api/subjects/", NEW_SUBJECT, format="json", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == "PNC-01/123456A" and body["added_by"] == detective.username
    assert body["priority"] == "medium" and body["status"] == "active" and body["version"] == 1
    assert body["enrolled_images"] == 0
    assert dt.date.fromisoformat(body["expires_on"]) > dt.date.fromisoformat(body["review_date"]) > timezone.localdate()
    assert response["Location"] == f"/api/subjects/{body['id']}/"
    event = AuditEvent.objects.get(action="subject.created")
    assert event.actor == detective and event.client_ip == "192.0.2.7"


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "administrator", "outsider"])
def test_only_detectives_add_subjects(request, api_as, role):
    response = api_as(request.getfixturevalue(role)).post("/api/subjects/", NEW_SUBJECT, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == ("your role does not allow this (create watchlists, add and edit subjects, "
                                         "enrol images)")
    assert not Subject.objects.exists()


def test_the_category_comes_from_the_closed_list(api_as, detective):
    response = api_as(detective).post("/api/subjects/", NEW_SUBJECT | {"category": "of_interest"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"category": ['"of_interest" is not a valid choice.']}


def test_under_18_needs_a_justification(api_as, detective):
    dob = (timezone.localdate() - dt.timedelta(days=365 * 15)).isoformat()
    child = NEW_SUBJECT | {"date_of_birth": dob, "category": "missing_at_risk"}
    refused = api_as(detective).post("/api/subjects/", child, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"errors": ["this subject is under 18: an additional recorded justification is required"]}
    assert not Subject.objects.exists()
    justified = child | {"under_18_justification": "Missing from care (MISPER 77/26)"}
    accepted = api_as(detective).post("/api/subjects/", justified, format="json")
    assert accepted.status_code == 201
    assert AuditEvent.objects.get(action="subject.created").details["under_18"] is True


def test_search_by_name_or_reference(api_as, detective):
    client = api_as(detective)
    for i, name in enumerate(["Alex Example", "Blake Sample", "Casey Alexander"]):
        client.post("/api/subjects/", NEW_SUBJECT | {"reference": f"REF-{i}", "name": name}, format="json")
    names = [s["name"] for s in client.get("/api/subjects/?search=alex").json()["results"]]
    assert names == ["Alex Example", "Casey Alexander"]
    assert [s["name"] for s in client.get("/api/subjects/?search=REF-1").json()["results"]] == ["Blake Sample"]
    # Control characters (a NUL cannot even be sent to PostgreSQL) are dropped from the search, not a 500.
    assert [s["name"] for s in client.get("/api/subjects/", {"search": "Bla\x00ke"}).json()["results"]] == [
        "Blake Sample"]


def test_viewing_a_subject_is_audited(api_as, detective, oversight):
    subject = enrolled_subject(detective, 0)
    response = api_as(oversight).get(f"/api/subjects/{subject.pk}/", REMOTE_ADDR="192.0.2.8")
    assert response.status_code == 200
    assert response.json()["enrolled_images"] == 1
    event = AuditEvent.objects.get(action="subject.viewed")
    assert event.actor == oversight and event.target_id == str(subject.pk) and event.client_ip == "192.0.2.8"


@pytest.mark.parametrize("role", ["officer", "administrator"])
def test_roles_without_view_watchlist_cannot_see_subjects(request, api_as, detective, role):
    subject = enrolled_subject(detective, 0)
    client = api_as(request.getfixturevalue(role))
    assert client.get(f"/api/subjects/{subject.pk}/").status_code == 403
    assert client.get("/api/subjects/").status_code == 403
    assert not AuditEvent.objects.filter(action="subject.viewed").exists()


def test_edit_with_the_version_and_stale_edits_are_refused(api_as, detective, commander):
    subject = enrolled_subject(detective, 0)
    watchlist = watchlist_create(actor=detective, name="Op Lantern", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist)
    client = api_as(detective)
    url = f"/api/subjects/{subject.pk}/"

    edited = client.patch(url, {"expected_version": 1, "name": "Alex Renamed", "priority": "high"}, format="json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["name"] == "Alex Renamed" and edited.json()["version"] == 2
    # The approved watchlist holding the subject needs a fresh approval.
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.DRAFT

    stale = client.patch(url, {"expected_version": 1, "name": "Someone Else's Edit"}, format="json")
    assert stale.status_code == 409
    assert stale.json() == {"errors": ["subject PNC-0000 was changed by someone else since you opened it; reload it "
                                       "and try again"]}
    assert Subject.objects.get(pk=subject.pk).name == "Alex Renamed"

    assert client.patch(url, {"name": "No version"}, format="json").json() == {
        "expected_version": ["This field is required."]}
    assert client.patch(url, {"expected_version": 2}, format="json").json() == {
        "non_field_errors": ["give at least one field to change"]}
    late_review = client.patch(url, {"expected_version": 2, "review_date": "2999-01-01"}, format="json")
    assert late_review.json() == {"errors": ["the review date must not be after the expiry date"]}
    assert api_as(commander).patch(url, {"expected_version": 2, "name": "X"}, format="json").status_code == 403
