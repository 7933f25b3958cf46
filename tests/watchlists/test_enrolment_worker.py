"""The production path: an upload commits, a real Celery worker process enrols it."""

import time

import pytest

from tests.factories import make_subject
from tests.samples import no_face_jpeg, person_jpeg
from watchlists.models import ReferenceImage
from watchlists.services import reference_image_add

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for_status(image_ids, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = dict(ReferenceImage.objects.filter(pk__in=image_ids).values_list("pk", "status"))
        if all(s != ReferenceImage.Status.PENDING for s in statuses.values()):
            return statuses
        time.sleep(0.3)
    raise AssertionError(f"still pending after {timeout} s: {statuses}")


def test_upload_is_enrolled_by_a_worker_after_commit(celery_worker_process, detective):
    subject = make_subject(detective)
    good = reference_image_add(actor=detective, subject=subject, data=person_jpeg(0), image_source="CUS/1")
    bad = reference_image_add(actor=detective, subject=subject, data=no_face_jpeg(), image_source="CUS/2")
    assert good.status == ReferenceImage.Status.PENDING

    statuses = wait_for_status([good.pk, bad.pk])

    assert statuses == {good.pk: "enrolled", bad.pk: "refused"}
    assert ReferenceImage.objects.get(pk=good.pk).embedding is not None
