"""API: reference images (upload, enrolment status, refused files, audited reads, duplicates)."""


import cv2
import numpy as np
import pytest
from django.conf import settings

from audit.models import AuditEvent
from tests.factories import enrolled_subject, protected_files
from tests.samples import YAO_MING, no_face_jpeg, person_jpeg, yao_ming_second_photo_jpeg
from tests.served_images import assert_reference_image_served
from watchlists.models import ReferenceImage
from watchlists.services import reference_images_enrol, subject_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(detective):
    return subject_create(actor=detective, reference="PNC-77", name="Alex Example", category="suspected_of_offence",
                          reason="Suspected of robbery", legal_basis="PACE s.24")


def upload(client, subject, data: bytes, name: str = "face.jpg", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"file": SimpleUploadedFile(name, data, content_type="image/jpeg"), "image_source": "Custody image CUS/1"}
    return client.post(f"/api/subjects/{subject.pk}/images", body | fields, format="multipart")


def test_upload_is_accepted_and_enrolment_queued(api_as, detective, subject, django_capture_on_commit_callbacks):
    client = api_as(detective)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(client, subject, person_jpeg(0), capture_date="2025-03-01")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["original_name"] == "face.jpg" and body["capture_date"] == "2025-03-01"
    assert response["Location"] == f"/api/reference-images/{body['id']}/"
    assert body["url"] == f"http://testserver/api/reference-images/{body['id']}/"
    assert body["file_url"] == body["url"] + "file"
    assert len(queued) == 1  # the enrolment task, sent once the upload has committed
    assert "embedding" not in body and "file_name" not in body

    reference_images_enrol(image_ids=[body["id"]])  # what the queued task does
    status = client.get(response["Location"]).json()
    assert status["status"] == "enrolled" and status["face_count"] == 1 and status["refusal_reasons"] == []
    assert status["quality"]["inter_ocular_px"] > 40 and status["model_id"].startswith("w600k_mbf-")
    assert "embedding" not in status
    listed = client.get(f"/api/subjects/{subject.pk}/images").json()
    assert [i["id"] for i in listed["results"]] == [body["id"]]
    assert "embedding" not in listed["results"][0]
    assert client.get(f"/api/subjects/{subject.pk}/").json()["enrolled_images"] == 1


def test_an_image_without_a_face_is_refused_with_the_reason(api_as, detective, subject):
    client = api_as(detective)
    image_id = upload(client, subject, no_face_jpeg()).json()["id"]
    reference_images_enrol(image_ids=[image_id])
    status = client.get(f"/api/reference-images/{image_id}/").json()
    assert status["status"] == "refused" and status["refusal_reasons"] == ["no face found in the image"]


def huge_png() -> bytes:
    ok, png = cv2.imencode(".png", np.zeros((6250, 8000), dtype=np.uint8))
    assert ok
    return png.tobytes()


@pytest.mark.parametrize("make, message", [
    (lambda: b"%PDF-1.4 this is a document, not a photo", "could not decode image: not a recognised image format"),
    (lambda: person_jpeg(0)[: len(person_jpeg(0)) // 2], "could not decode image"),
    (huge_png, "image too large: 8000x6250 is 50.0 megapixels, the limit is 40.0 megapixels"),
], ids=["not-an-image", "truncated-jpeg", "50-megapixels"])
def test_bad_uploads_are_refused_and_nothing_is_saved(api_as, detective, subject, make, message):
    before = protected_files()
    response = upload(api_as(detective), subject, make())
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert not ReferenceImage.objects.exists() and protected_files() == before
    assert not AuditEvent.objects.filter(action="reference_image.added").exists()


def test_files_over_the_size_limit_and_empty_files_are_refused(api_as, detective, subject, settings):
    settings.REFERENCE_IMAGE_MAX_BYTES = 1000
    client = api_as(detective)
    assert upload(client, subject, person_jpeg(0)).json()["file"][0].endswith("the limit is 0 MB")
    assert upload(client, subject, b"").json() == {"file": ["The submitted file is empty."]}
    missing = client.post(f"/api/subjects/{subject.pk}/images", {"image_source": "x"}, format="multipart")
    assert missing.json() == {"file": ["No file was submitted."]}
    assert not ReferenceImage.objects.exists()


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "outsider"])
def test_only_detectives_upload(request, api_as, subject, role):
    response = upload(api_as(request.getfixturevalue(role)), subject, person_jpeg(0))
    assert response.status_code == 403
    assert not ReferenceImage.objects.exists()


def test_the_image_file_is_served_audited_and_never_cached(api_as, detective, oversight):
    subject = enrolled_subject(detective, 0)
    image = subject.images.get()
    response = api_as(oversight).get(f"/api/reference-images/{image.pk}/file", HTTP_ACCEPT="image/jpeg",
                                     REMOTE_ADDR="192.0.2.9")
    assert_reference_image_served(response, image, person_jpeg(0), reader=oversight, client_ip="192.0.2.9")


@pytest.mark.parametrize("role", ["officer", "administrator", "outsider"])
def test_roles_without_biometric_access_get_no_image(request, api_as, detective, role):
    image = enrolled_subject(detective, 0).images.get()
    client = api_as(request.getfixturevalue(role))
    response = client.get(f"/api/reference-images/{image.pk}/file", HTTP_ACCEPT="image/*")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert "see reference face images" in response.json()["detail"]
    assert client.get(f"/api/reference-images/{image.pk}/").status_code == 403
    assert not AuditEvent.objects.filter(action="reference_image.viewed").exists()


def test_unknown_image_is_404(api_as, detective):
    response = api_as(detective).get("/api/reference-images/999999/file")
    assert response.status_code == 404 and response.json() == {"detail": "no such image"}


def test_a_flagged_duplicate_needs_a_justified_confirmation(api_as, detective):
    enrolled_subject(detective, 0, reference="REF-A", data=person_jpeg(YAO_MING))
    alias = subject_create(actor=detective, reference="REF-B", name="Alias", category="suspected_of_offence",
                           reason="r", legal_basis="b")
    client = api_as(detective)
    image_id = upload(client, alias, yao_ming_second_photo_jpeg()).json()["id"]
    reference_images_enrol(image_ids=[image_id])
    flagged = client.get(f"/api/reference-images/{image_id}/").json()
    assert flagged["status"] == "duplicate" and flagged["duplicate_score"] >= settings.DUPLICATE_SIMILARITY
    assert flagged["duplicate_of"] is not None

    url = f"/api/reference-images/{image_id}/confirm-duplicate"
    assert client.post(url, {"justification": "  "}, format="json").status_code == 400
    confirmed = client.post(url, {"justification": "Known alias, confirmed by custody record"}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "enrolled"
    again = client.post(url, {"justification": "again"}, format="json")
    assert again.json() == {"errors": ["only an image flagged as a possible duplicate needs confirmation"]}


def test_deleting_an_image(api_as, detective, commander):
    image = enrolled_subject(detective, 0).images.get()
    assert api_as(commander).delete(f"/api/reference-images/{image.pk}/").status_code == 403
    assert api_as(detective).delete(f"/api/reference-images/{image.pk}/").status_code == 204
    assert not ReferenceImage.objects.filter(pk=image.pk).exists()
    assert AuditEvent.objects.filter(action="reference_image.deleted").exists()


def test_a_missing_image_file_is_410_with_a_clear_message_and_the_attempt_is_audited(api_as, detective, oversight):
    from pathlib import Path

    image = enrolled_subject(detective, 0).images.get()
    (Path(settings.PROTECTED_MEDIA_ROOT) / image.file_name).unlink()  # lost from storage, the row kept
    response = api_as(oversight).get(f"/api/reference-images/{image.pk}/file", HTTP_ACCEPT="image/jpeg")
    assert response.status_code == 410 and response["Content-Type"] == "application/json"
    [message] = response.json()["errors"]
    assert message.startswith(f"the file of reference image {image.pk} (PNC-0000) is missing from protected storage")
    event = AuditEvent.objects.get(action="reference_image.viewed")
    assert event.actor == oversight and event.details == {"subject": "PNC-0000", "file_missing": True}
