"""Entries enrolled as children: frozen with a raised threshold, applied by the worker, shown to the commander."""

import datetime as dt

import pytest

from audit.models import AuditEvent
from deployments.models import SnapshotReference
from deployments.services import deployment_authorise
from recognition.camera_worker import snapshot_threshold_offsets
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from watchlists.models import ReferenceImage, Subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_child_entry(detective, commander, settings):
    settings.CHILD_ENTRY_THRESHOLD_OFFSET = 0.1
    settings.CHILD_ENTRY_MAX_AGE = 13
    child, adult, undated = (enrolled_subject(detective, i) for i in range(3))
    # The child's custody-style photo was taken at 2; the adult's at 30; the third has no date of birth.
    Subject.objects.filter(pk=child.pk).update(date_of_birth=dt.date(2020, 5, 1))
    ReferenceImage.objects.filter(subject=child).update(capture_date=dt.date(2022, 6, 1))
    Subject.objects.filter(pk=adult.pk).update(date_of_birth=dt.date(1990, 5, 1))
    ReferenceImage.objects.filter(subject=adult).update(capture_date=dt.date(2020, 6, 1))
    watchlist = approved_watchlist(detective, commander, [child, adult, undated])
    deployment = submitted_deployment(detective, watchlist, [video_camera(detective)])
    return deployment, child, adult, undated


def test_the_snapshot_freezes_the_raised_threshold_of_a_child_entry(commander, with_child_entry, settings):
    deployment, child, adult, undated = with_child_entry
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    frozen = {r.subject_id: (r.enrolled_as_child, r.threshold_offset)
              for r in SnapshotReference.objects.filter(snapshot__deployment=deployment)}
    assert frozen == {child.pk: (True, 0.1), adult.pk: (False, 0.0), undated.pk: (False, 0.0)}
    assert snapshot_threshold_offsets(deployment=deployment) == {child.pk: 0.1}
    details = AuditEvent.objects.get(action="deployment.authorised").details
    assert details["child_entries"] == 1 and details["child_threshold_offset"] == 0.1

    # Frozen: a later change of the setting does not reach a deployment already authorised.
    settings.CHILD_ENTRY_THRESHOLD_OFFSET = 0.3
    assert snapshot_threshold_offsets(deployment=deployment) == {child.pk: 0.1}


def test_an_image_without_a_capture_date_counts_from_its_upload(commander, with_child_entry):
    deployment, child, _, _ = with_child_entry
    ReferenceImage.objects.filter(subject=child).update(capture_date=None)  # uploaded today: the child is now 6
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    assert snapshot_threshold_offsets(deployment=deployment) == {child.pk: 0.1}


def test_without_an_offset_child_entries_are_marked_but_not_held_back(commander, with_child_entry, settings):
    settings.CHILD_ENTRY_THRESHOLD_OFFSET = 0.0
    deployment, child, _, _ = with_child_entry
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    assert snapshot_threshold_offsets(deployment=deployment) == {}
    assert SnapshotReference.objects.get(snapshot__deployment=deployment, subject_id=child.pk).enrolled_as_child


def test_the_authorising_officer_is_told_of_child_entries_and_their_threshold(client_as, commander, with_child_entry):
    deployment, child, adult, _ = with_child_entry
    page = client_as(commander).get(f"/deployments/{deployment.pk}/").content.decode()
    notice = page[page.index('data-testid="child-entries"'):]
    notice = notice[: notice.index("</div>")]
    assert "1 entry" in notice and child.name in notice and adult.name not in notice
    assert f"at <strong>{deployment.threshold + 0.1:.2f}</strong>" in notice
