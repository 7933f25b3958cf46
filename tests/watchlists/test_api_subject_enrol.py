"""API: POST /api/subjects/ with a watchlist and a photo (multipart), as the portal's subject form does."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from tests.factories import protected_files
from tests.samples import person_jpeg
from watchlists.models import ReferenceImage, Subject, Watchlist, WatchlistEntry
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db

NEW_SUBJECT = {"reference": "PNC-01/123456A", "name": "Alex Example", "category": "wanted_by_courts",
               "reason": "Failed to appear at Crown Court; warrant issued", "legal_basis": "Warrant W-2026-1182",
               "engagement_instructions": "Arrest on warrant W-2026-1182 (Crown Court)"}


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Lantern", purpose="Robbery series")


def with_photo(data: bytes, **fields) -> dict:
    return NEW_SUBJECT | {"image": SimpleUploadedFile("face.jpg", data, content_type="image/jpeg"),
                          "image_source": "Custody image CUS/2026/1182"} | fields


def test_a_subject_with_a_photo_onto_a_watchlist(api_as, detective, watchlist, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_as(detective).post("/api/subjects/", with_photo(
            person_jpeg(0), watchlist=watchlist.pk, watchlist_version=watchlist.version, capture_date="2025-06-01",
            use_largest_face="true"), format="multipart", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == "PNC-01/123456A" and body["enrolled_images"] == 0
    assert response["Location"] == f"/api/subjects/{body['id']}/"
    image = ReferenceImage.objects.get(subject_id=body["id"])
    assert image.status == ReferenceImage.Status.PENDING and image.use_largest_face
    assert (image.original_name, image.image_source, str(image.capture_date)) == (
        "face.jpg", "Custody image CUS/2026/1182", "2025-06-01")
    assert list(watchlist.entries.values_list("subject_id", flat=True)) == [body["id"]]
    assert len(queued) == 1  # the enrolment task, once the whole call has committed
    events = list(AuditEvent.objects.filter(actor=detective).order_by("sequence"))[-3:]
    assert [e.action for e in events] == ["subject.created", "watchlist.subjects_added", "reference_image.added"]
    assert events[0].correlation_id  # one request: one address, one channel, one correlation id
    assert {(e.client_ip, e.channel, e.correlation_id) for e in events} == {("192.0.2.7", "api", events[0].correlation_id)}
    images = api_as(detective).get(f"/api/subjects/{body['id']}/images").json()["results"]
    assert [i["id"] for i in images] == [image.pk] and images[0]["status"] == "pending"


def test_json_names_a_watchlist_without_a_photo(api_as, detective, watchlist):
    response = api_as(detective).post("/api/subjects/", NEW_SUBJECT | {"watchlist": watchlist.pk}, format="json")
    assert response.status_code == 201, response.content
    assert list(watchlist.entries.values_list("subject_id", flat=True)) == [response.json()["id"]]
    assert not ReferenceImage.objects.exists()


def test_json_cannot_carry_a_photo(api_as, detective):
    response = api_as(detective).post("/api/subjects/", NEW_SUBJECT | {"image": "aGVsbG8="}, format="json")
    assert response.status_code == 400
    assert "image" in response.json()
    assert not Subject.objects.exists()


def assert_nothing_left(files_before) -> None:
    assert not Subject.objects.exists() and not ReferenceImage.objects.exists()
    assert not WatchlistEntry.objects.exists() and protected_files() == files_before
    assert not AuditEvent.objects.filter(action__in=["subject.created", "watchlist.subjects_added",
                                                     "reference_image.added"]).exists()


def test_an_unusable_photo_leaves_nothing(api_as, detective, watchlist):
    before = protected_files()
    response = api_as(detective).post("/api/subjects/", with_photo(b"%PDF-1.4 not a photo", watchlist=watchlist.pk),
                                      format="multipart")
    assert response.status_code == 400
    assert response.json() == {"errors": ["could not decode image: not a recognised image format"]}
    assert_nothing_left(before)


def test_a_photo_needs_its_source(api_as, detective, watchlist):
    before = protected_files()
    response = api_as(detective).post("/api/subjects/", with_photo(person_jpeg(0), image_source=""),
                                      format="multipart")
    assert response.status_code == 400
    assert response.json() == {"errors": ["the image source (e.g. custody image reference) is required"]}
    assert_nothing_left(before)


def test_an_oversized_photo_is_refused_before_it_is_read(api_as, detective, settings):
    settings.REFERENCE_IMAGE_MAX_BYTES = 1000
    response = api_as(detective).post("/api/subjects/", with_photo(b"x" * 5000), format="multipart")
    assert response.status_code == 400
    assert response.json() == {"image": ["the file is 0.0 MB; the limit is 0 MB"]}
    assert not Subject.objects.exists()


def test_a_full_watchlist_leaves_nothing(api_as, detective, watchlist, settings):
    settings.WATCHLIST_MAX_SUBJECTS = 0
    before = protected_files()
    response = api_as(detective).post("/api/subjects/", with_photo(person_jpeg(0), watchlist=watchlist.pk),
                                      format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("a watchlist holds at most 0 subjects")
    assert_nothing_left(before)


def test_a_watchlist_changed_since_it_was_read_is_a_409(api_as, detective, watchlist):
    before = protected_files()
    response = api_as(detective).post("/api/subjects/", with_photo(
        person_jpeg(0), watchlist=watchlist.pk, watchlist_version=watchlist.version + 1), format="multipart")
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["errors"][0]
    assert_nothing_left(before)
    assert Watchlist.objects.get(pk=watchlist.pk).version == watchlist.version


def test_an_unknown_watchlist_is_named(api_as, detective):
    response = api_as(detective).post("/api/subjects/", NEW_SUBJECT | {"watchlist": 999_999}, format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": ["no such watchlist: 999999"]}
    assert not Subject.objects.exists()


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "administrator", "outsider"])
def test_only_detectives_enrol_subjects(request, api_as, watchlist, role):
    before = protected_files()
    response = api_as(request.getfixturevalue(role)).post(
        "/api/subjects/", with_photo(person_jpeg(0), watchlist=watchlist.pk), format="multipart")
    assert response.status_code == 403
    assert_nothing_left(before)
