"""Face images: served only by the permission-checked, audited view; enrolment results on the subject page."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from audit.models import AuditEvent
from tests.factories import make_subject
from tests.samples import YAO_MING, group_jpeg, person_jpeg, yao_ming_second_photo_jpeg
from tests.served_images import assert_reference_image_served
from watchlists.models import ReferenceImage
from watchlists.services import reference_image_add, reference_images_enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(detective):
    return make_subject(detective)


def add_image(actor, subject, data: bytes, enrol: bool = False, **kwargs) -> ReferenceImage:
    image = reference_image_add(actor=actor, subject=subject, data=data, image_source="Custody image CUS/1",
                                enrol=False, **kwargs)
    if enrol:
        reference_images_enrol(image_ids=[image.pk])
        image.refresh_from_db()
    return image


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("role", ["detective", "commander", "oversight"])
def test_the_image_view_returns_the_bytes_and_audits_the_read(request, client_as, detective, subject, role):
    image = add_image(detective, subject, person_jpeg(0))
    user = request.getfixturevalue(role)
    response = client_as(user).get(reverse("watchlists:image", args=[image.pk]))
    event = assert_reference_image_served(response, image, person_jpeg(0), reader=user, client_ip="127.0.0.1")
    assert event.details == {"subject": subject.reference}


def test_png_images_are_served_as_png(client_as, detective, subject):
    image = add_image(detective, subject, png_bytes())
    response = client_as(detective).get(reverse("watchlists:image", args=[image.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("role", ["officer", "administrator", "outsider"])
def test_the_image_view_is_forbidden_to_roles_without_biometric_access(request, client_as, detective, subject, role):
    image = add_image(detective, subject, person_jpeg(0))
    response = client_as(request.getfixturevalue(role)).get(reverse("watchlists:image", args=[image.pk]))
    assert response.status_code == 403 and response.content != person_jpeg(0)
    assert not AuditEvent.objects.filter(action="reference_image.viewed").exists()


def test_anonymous_users_get_no_image(client, detective, subject):
    image = add_image(detective, subject, person_jpeg(0))
    response = client.get(reverse("watchlists:image", args=[image.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_faces_are_never_under_a_static_or_media_url(client_as, detective, subject):
    image = add_image(detective, subject, person_jpeg(0))
    client = client_as(detective)
    page = client.get(reverse("watchlists:subject_detail", args=[subject.pk])).content.decode()
    assert f'src="{reverse("watchlists:image", args=[image.pk])}"' in page
    assert image.file_name not in page and settings.STATIC_URL + "subjects" not in page
    # The protected folder is outside every folder the static files server reads.
    protected = Path(settings.PROTECTED_MEDIA_ROOT).resolve()
    for public in [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS)]:
        public = public.resolve()
        assert public != protected and public not in protected.parents
    assert client.get(settings.STATIC_URL + image.file_name).status_code == 404
    assert client.get("/media/" + image.file_name).status_code == 404


def test_add_image_form_stores_a_pending_image(client_as, detective, subject):
    upload = SimpleUploadedFile("new.jpg", person_jpeg(1), content_type="image/jpeg")
    response = client_as(detective).post(reverse("watchlists:image_add", args=[subject.pk]),
                                         {"image": upload, "image_source": "CUS/2", "capture_date": "2025-01-02"})
    assert response.status_code == 302
    image = ReferenceImage.objects.get(subject=subject)
    assert image.status == ReferenceImage.Status.PENDING and image.image_source == "CUS/2"
    assert AuditEvent.objects.get(action="reference_image.added").client_ip == "127.0.0.1"


def test_add_image_form_shows_service_refusals(client_as, detective, subject):
    upload = SimpleUploadedFile("new.jpg", person_jpeg(1), content_type="image/jpeg")
    response = client_as(detective).post(reverse("watchlists:image_add", args=[subject.pk]),
                                         {"image": upload, "image_source": "CUS/2", "capture_date": "2999-01-01"})
    assert response.status_code == 400 and "the capture date is in the future" in response.content.decode()
    assert not ReferenceImage.objects.exists()


def test_commanders_cannot_add_images(client_as, commander, subject):
    upload = SimpleUploadedFile("new.jpg", person_jpeg(1), content_type="image/jpeg")
    response = client_as(commander).post(reverse("watchlists:image_add", args=[subject.pk]),
                                         {"image": upload, "image_source": "CUS/2"})
    assert response.status_code == 403 and not ReferenceImage.objects.exists()


def test_subject_page_shows_quality_refusals_and_warnings(client_as, detective, subject):
    enrolled = add_image(detective, subject, person_jpeg(0), enrol=True)
    refused = add_image(detective, subject, group_jpeg("t1"), enrol=True)
    assert enrolled.status == ReferenceImage.Status.ENROLLED and refused.status == ReferenceImage.Status.REFUSED
    response = client_as(detective).get(reverse("watchlists:subject_detail", args=[subject.pk]))
    page = response.content.decode()
    assert "inter_ocular_px" in page and "Enrolled" in page
    assert "6 faces found in the image" in page and "Refused" in page


def test_a_flagged_duplicate_is_confirmed_with_a_justification(client_as, detective):
    first = make_subject(detective, reference="YAO-1", name="First Person")
    second = make_subject(detective, reference="YAO-2", name="Second Person")
    add_image(detective, first, person_jpeg(YAO_MING), enrol=True)
    flagged = add_image(detective, second, yao_ming_second_photo_jpeg(), enrol=True)
    assert flagged.status == ReferenceImage.Status.DUPLICATE
    client = client_as(detective)
    page = client.get(reverse("watchlists:subject_detail", args=[second.pk])).content.decode()
    assert reverse("watchlists:subject_detail", args=[first.pk]) in page and "First Person (YAO-1)" in page
    assert reverse("watchlists:image_confirm_duplicate", args=[flagged.pk]) in page

    refused = client.post(reverse("watchlists:image_confirm_duplicate", args=[flagged.pk]), {"justification": " "})
    assert refused.status_code == 400 and "say why this image is enrolled" in refused.content.decode()
    assert ReferenceImage.objects.get(pk=flagged.pk).status == ReferenceImage.Status.DUPLICATE

    response = client.post(reverse("watchlists:image_confirm_duplicate", args=[flagged.pk]),
                           {"justification": "Same person: alias recorded on PNC"})
    assert response.status_code == 302
    assert ReferenceImage.objects.get(pk=flagged.pk).status == ReferenceImage.Status.ENROLLED
    assert AuditEvent.objects.get(action="reference_image.duplicate_confirmed").details["justification"] == \
        "Same person: alias recorded on PNC"


def test_delete_image(client_as, detective, subject):
    image = add_image(detective, subject, person_jpeg(0))
    response = client_as(detective).post(reverse("watchlists:image_delete", args=[image.pk]))
    assert response.status_code == 302 and not ReferenceImage.objects.exists()


def test_a_missing_image_file_is_410_with_a_clear_message_and_the_attempt_is_audited(client_as, oversight,
                                                                                    detective, subject):
    image = add_image(detective, subject, person_jpeg(0))
    (Path(settings.PROTECTED_MEDIA_ROOT) / image.file_name).unlink()  # lost from storage, the row kept
    response = client_as(oversight).get(reverse("watchlists:image", args=[image.pk]))
    assert response.status_code == 410
    assert response["Content-Type"] == "text/plain; charset=utf-8" and response["Cache-Control"] == "no-store, private"
    message = response.content.decode()
    assert message.startswith(f"the file of reference image {image.pk} (PNC-01/123456A) is missing from "
                              "protected storage")
    event = AuditEvent.objects.get(action="reference_image.viewed")
    assert event.actor == oversight and event.details == {"subject": "PNC-01/123456A", "file_missing": True}
