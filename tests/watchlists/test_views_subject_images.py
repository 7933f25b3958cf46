"""The subject page's reference images: quality in words, and a flagged duplicate beside the face it resembles."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import make_subject
from tests.samples import YAO_MING, group_jpeg, person_jpeg, yao_ming_second_photo_jpeg
from watchlists.models import ReferenceImage
from watchlists.services import reference_image_add, reference_images_enrol

pytestmark = pytest.mark.django_db

NOT_YET = "This image is not yet on the watchlist: confirm it is a different person, or withdraw it."


def add_and_enrol(actor, subject, data: bytes, **kwargs) -> ReferenceImage:
    image = reference_image_add(actor=actor, subject=subject, data=data, image_source="CUS/1", enrol=False, **kwargs)
    reference_images_enrol(image_ids=[image.pk])
    image.refresh_from_db()
    return image


@pytest.fixture
def flagged(detective):
    """(first subject's enrolled image, second subject's image flagged as looking like the first)."""
    first = make_subject(detective, reference="YAO-1", name="First Person")
    second = make_subject(detective, reference="YAO-2", name="Second Person")
    enrolled = add_and_enrol(detective, first, person_jpeg(YAO_MING))
    duplicate = add_and_enrol(detective, second, yao_ming_second_photo_jpeg())
    assert enrolled.status == ReferenceImage.Status.ENROLLED and duplicate.status == ReferenceImage.Status.DUPLICATE
    return enrolled, duplicate


def page_of(client, subject_id) -> str:
    response = client.get(reverse("watchlists:subject_detail", args=[subject_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_quality_is_shown_in_words(client_as, detective):
    subject = make_subject(detective)
    image = add_and_enrol(detective, subject, person_jpeg(0))
    page = page_of(client_as(detective), subject.pk)
    assert f'data-testid="quality-{image.pk}"' in page
    eyes = f"eyes {image.quality['inter_ocular_px']:.0f} px apart (minimum 30)"
    assert eyes in page and "Sharp" in page and "(limit 35°)" in page


def test_a_refused_image_says_what_was_wrong_in_words(client_as, detective, settings):
    settings.ENROLMENT_MIN_INTER_OCULAR_PX = 500.0  # every face is then too small
    subject = make_subject(detective)
    image = add_and_enrol(detective, subject, person_jpeg(0))
    assert image.status == ReferenceImage.Status.REFUSED
    height = image.quality["bbox"][3] - image.quality["bbox"][1]
    assert f"Face too small: {height} px tall, eyes {image.quality['inter_ocular_px']:.0f} px apart (minimum 500)" \
        in page_of(client_as(detective), subject.pk)


def test_a_flagged_duplicate_shows_both_faces_the_score_in_words_and_that_it_is_not_on_the_watchlist(
        client_as, detective, flagged):
    enrolled, duplicate = flagged
    page = page_of(client_as(detective), duplicate.subject_id)
    assert f'data-testid="duplicate-compare-{duplicate.pk}"' in page
    assert f'src="{reverse("watchlists:image", args=[duplicate.pk])}"' in page
    assert f'src="{reverse("watchlists:image", args=[enrolled.pk])}"' in page
    assert "Enrolled image of" in page and "First Person (YAO-1)" in page
    assert f"similarity {duplicate.duplicate_score:.2f}, where 0.45 or more is flagged" in page
    assert NOT_YET in page
    assert reverse("watchlists:image_confirm_duplicate", args=[duplicate.pk]) in page
    assert "Withdraw this image" in page


def test_the_other_subjects_face_goes_through_the_audited_image_view(client_as, detective, flagged):
    enrolled, _ = flagged
    response = client_as(detective).get(reverse("watchlists:image", args=[enrolled.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="reference_image.viewed").target_id == str(enrolled.pk)


def test_a_viewer_without_biometric_access_is_told_and_shown_no_face(client, make_user, detective, flagged):
    enrolled, duplicate = flagged
    viewer = make_user(username="records_clerk")
    viewer.user_permissions.add(Permission.objects.get(codename="view_watchlist", content_type__app_label="accounts"))
    client.force_login(viewer)
    page = page_of(client, duplicate.subject_id)
    assert "The other subject's image is not shown: you may not see reference images." in page
    assert reverse("watchlists:image", args=[enrolled.pk]) not in page
    assert reverse("watchlists:image", args=[duplicate.pk]) not in page
    assert NOT_YET in page


def test_a_confirmed_or_ordinary_image_has_no_duplicate_notice(client_as, detective, flagged):
    from watchlists.services import reference_image_confirm_duplicate

    _, duplicate = flagged
    reference_image_confirm_duplicate(actor=detective, image=duplicate, justification="Twin brother, PNC note")
    page = page_of(client_as(detective), duplicate.subject_id)
    assert NOT_YET not in page and f'data-testid="duplicate-compare-{duplicate.pk}"' not in page


def test_a_group_photo_says_which_face_was_used(client_as, detective):
    subject = make_subject(detective)
    image = add_and_enrol(detective, subject, group_jpeg("t1"), use_largest_face=True)
    page = page_of(client_as(detective), subject.pk)
    assert "the largest of the 6 found" in page and image.status == ReferenceImage.Status.ENROLLED
