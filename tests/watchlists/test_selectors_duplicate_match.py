"""What a viewer may see of the subject a flagged image looks like (reference_image_duplicate_match)."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import make_subject
from tests.samples import YAO_MING, person_jpeg, yao_ming_second_photo_jpeg
from watchlists.models import ReferenceImage
from watchlists.selectors import reference_image_duplicate_match
from watchlists.services import reference_image_add, reference_images_enrol

pytestmark = pytest.mark.django_db


def add_and_enrol(actor, subject, data: bytes) -> ReferenceImage:
    image = reference_image_add(actor=actor, subject=subject, data=data, image_source="CUS/1", enrol=False)
    reference_images_enrol(image_ids=[image.pk])
    image.refresh_from_db()
    return image


@pytest.fixture
def images(detective):
    first = make_subject(detective, reference="YAO-1", name="First Person")
    other_photo = add_and_enrol(detective, first, person_jpeg(0))  # someone else, on the same record by mistake
    match = add_and_enrol(detective, first, person_jpeg(YAO_MING))
    flagged = add_and_enrol(detective, make_subject(detective, reference="YAO-2"), yao_ming_second_photo_jpeg())
    assert flagged.status == ReferenceImage.Status.DUPLICATE and flagged.duplicate_of == first
    return other_photo, match, flagged


def user_with(make_user, *capabilities):
    user = make_user()
    user.user_permissions.add(*Permission.objects.filter(codename__in=capabilities, content_type__app_label="accounts"))
    return user


def test_the_closest_enrolled_image_of_the_other_subject_is_the_one_shown(detective, images):
    _, match, flagged = images
    found = reference_image_duplicate_match(user=detective, image=flagged)
    assert found.subject == match.subject and found.image == match and found.hidden_because == ""


def test_a_viewer_who_may_not_see_the_other_subject_gets_neither_it_nor_its_face(make_user, images):
    _, _, flagged = images
    found = reference_image_duplicate_match(user=user_with(make_user, "view_biometric_data"), image=flagged)
    assert (found.subject, found.image) == (None, None)
    assert found.hidden_because == "you may not see the subject this image looks like"


def test_a_viewer_without_biometric_access_sees_the_subject_but_not_its_face(make_user, images):
    _, match, flagged = images
    found = reference_image_duplicate_match(user=user_with(make_user, "view_watchlist"), image=flagged)
    assert found.subject == match.subject and found.image is None
    assert found.hidden_because == "you may not see reference images"


def test_an_image_not_flagged_has_no_match(detective, images):
    other_photo, _, _ = images
    assert reference_image_duplicate_match(user=detective, image=other_photo) is None
