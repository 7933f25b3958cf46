"""API: a reference image's quality in words beside the raw figures, and the enrolled face's box."""

import pytest

from tests.samples import group_jpeg, person_jpeg
from watchlists.services import reference_image_add, reference_images_enrol, subject_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(detective):
    return subject_create(actor=detective, reference="PNC-77", name="Alex Example", category="suspected_of_offence",
                          reason="Suspected of robbery", legal_basis="PACE s.24")


def enrolled_id(detective, subject, data: bytes, **kwargs) -> int:
    image = reference_image_add(actor=detective, subject=subject, data=data, image_source="CUS/1", enrol=False,
                                **kwargs)
    reference_images_enrol(image_ids=[image.pk])
    return image.pk


def test_an_image_gives_its_quality_in_words_and_keeps_the_raw_figures(api_as, detective, subject):
    image_id = enrolled_id(detective, subject, person_jpeg(0))
    body = api_as(detective).get(f"/api/reference-images/{image_id}/").json()
    assert body["status"] == "enrolled"
    figures = body["quality"]
    assert set(figures) == {"inter_ocular_px", "det_score", "sharpness", "yaw_deg", "pitch_deg", "roll_deg",
                            "brightness", "contrast"}
    assert all(isinstance(v, float) for v in figures.values())
    summary = body["quality_summary"]
    assert summary[0].startswith("Face ") and f"eyes {figures['inter_ocular_px']:.0f} px apart (minimum 30)" in summary[0]
    assert not any("_deg" in words or "_px" in words for words in summary)
    x1, y1, x2, y2 = body["face_box"]
    assert 0 <= x1 < x2 <= body["width"] and 0 <= y1 < y2 <= body["height"]


def test_a_pending_image_has_no_words_and_no_box(api_as, detective, subject):
    image = reference_image_add(actor=detective, subject=subject, data=person_jpeg(0), image_source="CUS/1",
                                enrol=False)
    body = api_as(detective).get(f"/api/reference-images/{image.pk}/").json()
    assert (body["quality"], body["quality_summary"], body["face_box"]) == ({}, [], None)


def test_the_subject_image_list_carries_the_words_too(api_as, detective, subject, django_assert_max_num_queries):
    enrolled_id(detective, subject, person_jpeg(0))
    enrolled_id(detective, subject, group_jpeg("t1"), use_largest_face=True)
    client = api_as(detective)
    client.get(f"/api/subjects/{subject.pk}/images")  # warm the session
    with django_assert_max_num_queries(12):
        listed = client.get(f"/api/subjects/{subject.pk}/images").json()["results"]
    assert [len(i["quality_summary"]) for i in listed] == [8, 8]
    assert listed[1]["face_count"] == 6 and listed[1]["face_box"] is not None
