"""The group photo's enrolled face, outlined: stored at enrolment, drawn by the checked and audited image view."""

import cv2
import numpy as np
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from recognition.runtime import face_engine
from tests.factories import make_subject
from tests.samples import group_jpeg, person_jpeg
from watchlists.models import ReferenceImage
from watchlists.services import reference_image_add, reference_images_enrol

pytestmark = pytest.mark.django_db

AMBER_BGR = np.array([0, 215, 255])


def enrolled(actor, data: bytes, reference: str = "PNC-01/123456A", **kwargs) -> ReferenceImage:
    subject = make_subject(actor, reference=reference)
    image = reference_image_add(actor=actor, subject=subject, data=data, image_source="CUS/1", enrol=False, **kwargs)
    reference_images_enrol(image_ids=[image.pk])
    image.refresh_from_db()
    return image


def test_enrolment_stores_the_box_of_the_largest_face(detective):
    image = enrolled(detective, group_jpeg("t1"), use_largest_face=True)
    assert image.status == ReferenceImage.Status.ENROLLED and image.face_count == 6
    frame = cv2.imdecode(np.frombuffer(group_jpeg("t1"), np.uint8), cv2.IMREAD_COLOR)
    largest = max(face_engine().analyse([frame], embed=False)[0], key=lambda f: f.area)
    assert image.quality["bbox"] == pytest.approx([float(v) for v in largest.box], abs=1.5)


def test_the_outlined_image_draws_the_box_and_the_read_is_audited(client_as, detective, oversight):
    image = enrolled(detective, group_jpeg("t1"), use_largest_face=True)
    response = client_as(oversight).get(reverse("watchlists:image_outlined", args=[image.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    drawn = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imdecode(np.frombuffer(group_jpeg("t1"), np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == original.shape
    x1, y1, x2, y2 = image.quality["bbox"]
    top_middle = drawn[y1 + 1, (x1 + x2) // 2].astype(int)
    assert np.abs(top_middle - AMBER_BGR).max() < 50
    assert np.abs(original[y1 + 1, (x1 + x2) // 2].astype(int) - AMBER_BGR).max() >= 50
    # Inside the box the face is untouched (but for JPEG's rounding).
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    assert np.abs(drawn[cy, cx].astype(int) - original[cy, cx].astype(int)).max() < 30

    event = AuditEvent.objects.get(action="reference_image.viewed")
    assert event.actor == oversight and event.details == {"subject": image.subject.reference, "outlined": True}


@pytest.mark.parametrize("role", ["officer", "administrator", "outsider"])
def test_roles_without_biometric_access_get_no_outlined_image(request, client_as, detective, role):
    image = enrolled(detective, group_jpeg("t1"), use_largest_face=True)
    response = client_as(request.getfixturevalue(role)).get(reverse("watchlists:image_outlined", args=[image.pk]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="reference_image.viewed").exists()


def test_an_image_with_no_recorded_face_has_no_outlined_variant(client_as, detective):
    subject = make_subject(detective)
    pending = reference_image_add(actor=detective, subject=subject, data=person_jpeg(0), image_source="CUS/1",
                                  enrol=False)
    response = client_as(detective).get(reverse("watchlists:image_outlined", args=[pending.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="reference_image.viewed").exists()


def test_the_subject_page_shows_the_outlined_face_for_a_group_photo_only(client_as, detective):
    group = enrolled(detective, group_jpeg("t1"), use_largest_face=True)
    page = client_as(detective).get(reverse("watchlists:subject_detail", args=[group.subject_id])).content.decode()
    assert f'src="{reverse("watchlists:image_outlined", args=[group.pk])}"' in page
    assert "The outlined face is the one used: the largest of the 6 found" in page

    single = enrolled(detective, person_jpeg(0), reference="PNC-02")
    assert single.face_count == 1 and single.quality["bbox"]
    page = client_as(detective).get(reverse("watchlists:subject_detail", args=[single.subject_id])).content.decode()
    assert f'src="{reverse("watchlists:image", args=[single.pk])}"' in page
    assert reverse("watchlists:image_outlined", args=[single.pk]) not in page
