"""Enrolment with the real engine on real packaged photos: quality gate, one face, duplicates, bad files."""

import datetime as dt
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.conf import settings

from audit.models import AuditEvent
from core.errors import RuleViolation
from tests.factories import make_subject, protected_files
from tests.samples import YAO_MING, encode_jpeg, group_jpeg, no_face_jpeg, person_image, person_jpeg, yao_ming_second_photo_jpeg
from watchlists.models import ReferenceImage, Watchlist
from watchlists.services import (
    reference_image_add,
    reference_image_confirm_duplicate,
    reference_images_enrol,
    watchlist_approve,
    watchlist_create,
    watchlist_subjects_add,
    watchlist_submit,
)

pytestmark = pytest.mark.django_db


def add_and_enrol(actor, subject, data: bytes, **kwargs) -> ReferenceImage:
    image = reference_image_add(actor=actor, subject=subject, data=data, image_source="Custody image CUS/1",
                                enrol=False, **kwargs)
    reference_images_enrol(image_ids=[image.pk])
    image.refresh_from_db()
    return image


def test_a_clear_single_face_is_enrolled(detective):
    subject = make_subject(detective)
    image = add_and_enrol(detective, subject, person_jpeg(0), capture_date=dt.date(2025, 3, 1))
    assert image.status == ReferenceImage.Status.ENROLLED, image.refusal_reasons
    assert image.face_count == 1 and image.refusal_reasons == [] and image.warnings == []
    vector = np.asarray(image.embedding)
    assert vector.shape == (512,) and abs(np.linalg.norm(vector) - 1) < 1e-3
    assert image.model_id.startswith("w600k_mbf-")
    assert image.quality["inter_ocular_px"] > 40
    stored = Path(settings.PROTECTED_MEDIA_ROOT) / image.file_name
    assert stored.read_bytes() == person_jpeg(0) and oct(stored.stat().st_mode)[-3:] == "600"
    events = AuditEvent.objects.filter(target_type="watchlists.referenceimage", target_id=str(image.pk))
    assert list(events.values_list("action", flat=True)) == ["reference_image.added", "reference_image.enrolled"]


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.4 this is a document, not a photo", "not a recognised image format"),
    (b"", "the file is empty"),
], ids=["not-an-image", "empty"])
def test_files_that_are_not_images_are_refused_and_nothing_is_saved(detective, data, message):
    subject = make_subject(detective)
    before = protected_files()
    with pytest.raises(RuleViolation, match=message):
        reference_image_add(actor=detective, subject=subject, data=data, image_source="CUS/2", enrol=False)
    assert not ReferenceImage.objects.exists() and protected_files() == before


def test_a_truncated_jpeg_is_refused_and_nothing_is_saved(detective):
    subject = make_subject(detective)
    data = person_jpeg(0)
    with pytest.raises(RuleViolation, match="could not decode image"):
        reference_image_add(actor=detective, subject=subject, data=data[: len(data) // 2], image_source="CUS/3",
                            enrol=False)
    assert not ReferenceImage.objects.exists()


def test_a_50_megapixel_image_is_refused_before_decoding(detective):
    subject = make_subject(detective)
    ok, png = cv2.imencode(".png", np.zeros((6250, 8000), dtype=np.uint8))
    with pytest.raises(RuleViolation, match=r"image too large: 8000x6250 is 50.0 megapixels"):
        reference_image_add(actor=detective, subject=subject, data=png.tobytes(), image_source="CUS/4", enrol=False)
    assert not ReferenceImage.objects.exists()


def test_an_image_without_a_face_is_refused_with_the_reason(detective):
    image = add_and_enrol(detective, make_subject(detective), no_face_jpeg())
    assert image.status == ReferenceImage.Status.REFUSED
    assert image.refusal_reasons == ["no face found in the image"] and image.embedding is None


def test_a_group_photo_is_refused_unless_the_largest_face_is_chosen(detective):
    subject = make_subject(detective)
    image = add_and_enrol(detective, subject, group_jpeg("t1"))
    assert image.status == ReferenceImage.Status.REFUSED and image.face_count == 6
    assert "6 faces found in the image" in image.refusal_reasons[0]

    chosen = add_and_enrol(detective, subject, group_jpeg("t1"), use_largest_face=True)
    assert chosen.face_count == 6
    assert any("the largest was used" in w for w in chosen.warnings)


def test_a_face_too_small_is_refused_with_the_measurement(detective):
    small = cv2.resize(person_image(0), None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA)
    image = add_and_enrol(detective, make_subject(detective), encode_jpeg(small))
    assert image.status == ReferenceImage.Status.REFUSED
    assert any(reason.startswith("face too small") for reason in image.refusal_reasons), image.refusal_reasons


def test_an_old_image_is_flagged_for_replacement(detective):
    image = add_and_enrol(detective, make_subject(detective), person_jpeg(1), capture_date=dt.date(2015, 1, 1))
    assert image.status == ReferenceImage.Status.ENROLLED
    assert any("replace it with a recent one" in w for w in image.warnings)


def test_a_face_close_to_another_subject_is_flagged_before_enrolment(detective):
    first = make_subject(detective, reference="REF-A", name="Yao Ming")
    add_and_enrol(detective, first, person_jpeg(YAO_MING))
    second = make_subject(detective, reference="REF-B", name="Alias of Yao Ming")

    flagged = add_and_enrol(detective, second, yao_ming_second_photo_jpeg())  # another photo of the same man
    assert flagged.status == ReferenceImage.Status.DUPLICATE
    assert flagged.duplicate_of == first and flagged.duplicate_score > settings.DUPLICATE_SIMILARITY

    different = add_and_enrol(detective, second, person_jpeg(2))
    assert different.status == ReferenceImage.Status.ENROLLED

    with pytest.raises(RuleViolation, match="say why"):
        reference_image_confirm_duplicate(actor=detective, image=flagged, justification=" ")
    reference_image_confirm_duplicate(actor=detective, image=flagged, justification="Identical twin of REF-A")
    assert ReferenceImage.objects.get(pk=flagged.pk).status == ReferenceImage.Status.ENROLLED


def test_adding_an_image_returns_an_approved_watchlist_to_draft(detective, commander):
    subject = make_subject(detective)
    add_and_enrol(detective, subject, person_jpeg(0))
    watchlist = watchlist_create(actor=detective, name="Op Lantern", purpose="Wanted for violent offences")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist)

    reference_image_add(actor=detective, subject=subject, data=person_jpeg(1), image_source="CUS/9", enrol=False)

    watchlist.refresh_from_db()
    assert watchlist.status == Watchlist.Status.DRAFT and watchlist.approved_by is None


def test_batched_enrolment_decides_each_image_on_its_own(detective):
    subjects = [make_subject(detective, reference=f"REF-{i}", name=f"P{i}") for i in range(4)]
    datas = [person_jpeg(0), no_face_jpeg(), person_jpeg(3), group_jpeg("players")]
    images = [reference_image_add(actor=detective, subject=s, data=d, image_source="CUS", enrol=False)
              for s, d in zip(subjects, datas, strict=True)]
    reference_images_enrol(image_ids=[i.pk for i in images])
    statuses = [ReferenceImage.objects.get(pk=i.pk).status for i in images]
    assert statuses == ["enrolled", "refused", "enrolled", "refused"]
