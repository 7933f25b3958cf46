"""watchlists_return_to_draft: every change to what an approved watchlist would freeze sends it back to draft."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from deployments.models import Deployment, SnapshotReference
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from tests.samples import YAO_MING, person_jpeg, yao_ming_second_photo_jpeg
from watchlists.models import ReferenceImage, Subject, Watchlist
from watchlists.services import (
    ReferenceImageUpload,
    reference_image_add,
    reference_image_confirm_duplicate,
    reference_image_delete,
    reference_images_enrol,
    subject_enrol,
    subject_update,
    subjects_purge_expired,
    watchlist_approve,
    watchlist_subject_remove,
    watchlist_submit,
)

pytestmark = pytest.mark.django_db


def upload(client, subject, data: bytes):
    body = {"file": SimpleUploadedFile("face.jpg", data, content_type="image/jpeg"), "image_source": "CUS/9"}
    return client.post(f"/api/subjects/{subject.pk}/images", body, format="multipart")


def approve_via_api(api_as, detective, commander, watchlist):
    assert api_as(detective).post(f"/api/watchlists/{watchlist.pk}/submit").status_code == 200
    version = Watchlist.objects.get(pk=watchlist.pk).version
    response = api_as(commander).post(f"/api/watchlists/{watchlist.pk}/approve", {"expected_version": version},
                                      format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved", response.content


def returned(watchlist, why_contains: str, actor=None):
    watchlist.refresh_from_db()
    event = AuditEvent.objects.filter(action="watchlist.returned_to_draft", target_id=str(watchlist.pk)).last()
    return (watchlist.status == Watchlist.Status.DRAFT and watchlist.approved_by is None and event is not None
            and why_contains in event.details["why"] and event.actor == actor)


@pytest.fixture
def alias_on_approved_watchlist(api_as, detective, commander):
    """The attacker's setup: REF-B (one enrolled image) on an approved watchlist, plus a second photo of REF-A
    uploaded to REF-B and flagged as a duplicate; the watchlist re-approved without that face."""
    enrolled_subject(detective, 0, reference="REF-A", data=person_jpeg(YAO_MING))
    alias = enrolled_subject(detective, 1, reference="REF-B")
    watchlist = approved_watchlist(detective, commander, [alias])
    image_id = upload(api_as(detective), alias, yao_ming_second_photo_jpeg()).json()["id"]
    reference_images_enrol(image_ids=[image_id])  # what the queued task does
    assert ReferenceImage.objects.get(pk=image_id).status == ReferenceImage.Status.DUPLICATE
    approve_via_api(api_as, detective, commander, watchlist)
    return watchlist, alias, image_id


def test_confirming_a_duplicate_through_the_api_returns_the_watchlist_and_authorisation_is_refused(
        api_as, detective, commander, alias_on_approved_watchlist):
    watchlist, alias, image_id = alias_on_approved_watchlist
    deployment = submitted_deployment(detective, watchlist, [video_camera(detective)])

    confirmed = api_as(detective).post(f"/api/reference-images/{image_id}/confirm-duplicate",
                                       {"justification": "Known alias"}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "enrolled"
    assert returned(watchlist, "REF-B was confirmed", actor=detective)

    response = api_as(commander).post(f"/api/deployments/{deployment.pk}/authorise",
                                      {"reasons": "Necessary and proportionate"}, format="json")
    assert response.status_code == 400
    assert f"the watchlist \u201c{watchlist.name}\u201d is not approved" in response.json()["errors"]
    assert Deployment.objects.get(pk=deployment.pk).state == Deployment.State.SUBMITTED
    assert not SnapshotReference.objects.filter(reference_image_id=image_id).exists()


def test_confirming_a_duplicate_in_the_portal_returns_the_watchlist(client_as, detective,
                                                                   alias_on_approved_watchlist):
    watchlist, _, image_id = alias_on_approved_watchlist
    client_as(detective).post(reverse("watchlists:image_confirm_duplicate", args=[image_id]),
                              {"justification": "Known alias"})
    assert ReferenceImage.objects.get(pk=image_id).status == ReferenceImage.Status.ENROLLED
    assert returned(watchlist, "REF-B was confirmed", actor=detective)


def test_an_image_enrolled_after_approval_returns_the_watchlist(api_as, detective, commander,
                                                               django_capture_on_commit_callbacks):
    subject = enrolled_subject(detective, 0)
    watchlist = approved_watchlist(detective, commander, [subject])
    with django_capture_on_commit_callbacks(execute=False):  # the enrolment task is still queued
        image_id = upload(api_as(detective), subject, person_jpeg(1)).json()["id"]
    approve_via_api(api_as, detective, commander, watchlist)  # approved while the image is pending

    reference_images_enrol(image_ids=[image_id])

    assert ReferenceImage.objects.get(pk=image_id).status == ReferenceImage.Status.ENROLLED
    assert returned(watchlist, "an image of PNC-0000 was enrolled", actor=None)


def test_a_refused_image_leaves_the_approval_alone(detective, commander):
    from tests.samples import no_face_jpeg

    subject = enrolled_subject(detective, 0)
    watchlist = approved_watchlist(detective, commander, [subject])
    image = reference_image_add(actor=detective, subject=subject, data=no_face_jpeg(), image_source="CUS/2",
                                enrol=False)
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist)
    reference_images_enrol(image_ids=[image.pk])
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.APPROVED


def test_uploading_an_image_returns_the_watchlist(api_as, detective, commander):
    subject = enrolled_subject(detective, 0)
    watchlist = approved_watchlist(detective, commander, [subject])
    assert upload(api_as(detective), subject, person_jpeg(1)).status_code == 202
    assert returned(watchlist, "a reference image was added to PNC-0000", actor=detective)


def test_deleting_an_image_returns_the_watchlist(api_as, detective, commander):
    subject = enrolled_subject(detective, 0)
    image = reference_image_add(actor=detective, subject=subject, data=person_jpeg(1), image_source="CUS/2")
    reference_images_enrol(image_ids=[image.pk])
    watchlist = approved_watchlist(detective, commander, [subject])
    assert api_as(detective).delete(f"/api/reference-images/{image.pk}/").status_code == 204
    assert returned(watchlist, "a reference image of PNC-0000 was deleted", actor=detective)


def test_removing_a_subject_returns_the_watchlist(api_as, detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    watchlist = approved_watchlist(detective, commander, subjects)
    response = api_as(detective).delete(f"/api/watchlists/{watchlist.pk}/subjects/{subjects[1].pk}")
    assert response.status_code == 204
    assert returned(watchlist, "PNC-0001 was removed", actor=detective)


def test_editing_a_subject_returns_the_watchlist(detective, commander):
    subject = enrolled_subject(detective, 0)
    watchlist = approved_watchlist(detective, commander, [subject])
    subject_update(actor=detective, subject=subject, expected_version=subject.version,
                   changes={"reason": "Wanted for two robberies"})
    assert returned(watchlist, "subject PNC-0000 was edited", actor=detective)


def test_purging_a_subject_returns_the_watchlist(detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    watchlist = approved_watchlist(detective, commander, subjects)
    Subject.objects.filter(pk=subjects[1].pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert subjects_purge_expired() == 1
    assert returned(watchlist, "PNC-0001 was purged", actor=None)


def test_every_watchlist_holding_the_subject_returns_once_and_drafts_are_untouched(detective, commander):
    subject = enrolled_subject(detective, 0)
    first = approved_watchlist(detective, commander, [subject])
    second = approved_watchlist(detective, commander, [subject])
    other = approved_watchlist(detective, commander, [enrolled_subject(detective, 1)])
    image = reference_image_add(actor=detective, subject=subject, data=person_jpeg(2), image_source="CUS/3",
                                enrol=False)
    reference_image_delete(actor=detective, image=image)  # the watchlists are draft already: nothing to record
    assert AuditEvent.objects.filter(action="watchlist.returned_to_draft").count() == 2
    assert {w.status for w in Watchlist.objects.filter(pk__in=[first.pk, second.pk])} == {Watchlist.Status.DRAFT}
    assert Watchlist.objects.get(pk=other.pk).status == Watchlist.Status.APPROVED


def test_the_watchlist_being_edited_is_returned_in_place(detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    watchlist = approved_watchlist(detective, commander, subjects)
    version = Watchlist.objects.get(pk=watchlist.pk).version
    watchlist_subject_remove(actor=detective, watchlist=watchlist, subject=subjects[0])
    watchlist.refresh_from_db()
    assert watchlist.status == Watchlist.Status.DRAFT and watchlist.version > version


def test_a_snapshot_holds_only_what_was_approved(detective, commander):
    """The end of the attacker's path through the services: confirm, re-approve, authorise."""
    from deployments.services import deployment_authorise

    enrolled_subject(detective, 0, reference="REF-A", data=person_jpeg(YAO_MING))
    alias = enrolled_subject(detective, 1, reference="REF-B")
    watchlist = approved_watchlist(detective, commander, [alias])
    image = reference_image_add(actor=detective, subject=alias, data=yao_ming_second_photo_jpeg(),
                                image_source="CUS/4", enrol=False)
    reference_images_enrol(image_ids=[image.pk])
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist)
    reference_image_confirm_duplicate(actor=detective, image=ReferenceImage.objects.get(pk=image.pk),
                                      justification="Known alias")
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist)  # now the commander has seen it enrolled
    deployment = submitted_deployment(detective, watchlist, [video_camera(detective)])
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    assert SnapshotReference.objects.filter(snapshot__deployment=deployment, reference_image_id=image.pk).exists()


def _while_a_commander_holds_the_watchlist(watchlist, change, in_lock=lambda: None) -> list[BaseException]:
    """Run ``change`` in another thread while this one holds the watchlist's lock (as watchlist_approve,
    watchlist_submit and deployment_authorise do) and does ``in_lock()``, then writes an audit event, as they
    do next; return what either thread raised."""
    import threading
    import time

    from django.db import connection, connections, transaction

    from audit.services import audit_record

    errors: list[BaseException] = []

    def other():
        try:
            change()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Watchlist.objects.select_for_update().get(pk=watchlist.pk)
        in_lock()
        thread = threading.Thread(target=other)
        thread.start()
        deadline = time.monotonic() + 20
        with connection.cursor() as cursor:  # until the other transaction waits for a lock
            while time.monotonic() < deadline and thread.is_alive():
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND datname = current_database() AND pid <> pg_backend_pid()")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
        time.sleep(0.2)
        try:
            audit_record(actor=None, action="watchlist.reviewed", target=watchlist)
        except BaseException as exc:
            errors.append(exc)
            raise
    thread.join(30)
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["enrolment", "duplicate confirmation", "upload", "image deletion", "subject edit",
                                  "purge", "new subject"])
def test_a_change_during_an_approval_waits_for_it_instead_of_deadlocking(detective, commander, path):
    """Each path locks the watchlists before anything else (the audit chain's lock included)."""
    subject = enrolled_subject(detective, 0, reference="REF-A", data=person_jpeg(YAO_MING))
    if path == "duplicate confirmation":
        subject = enrolled_subject(detective, 1, reference="REF-B")
        image = reference_image_add(actor=detective, subject=subject, data=yao_ming_second_photo_jpeg(),
                                    image_source="CUS/5", enrol=False)
        reference_images_enrol(image_ids=[image.pk])
    else:
        image = reference_image_add(actor=detective, subject=subject, data=person_jpeg(1), image_source="CUS/5",
                                    enrol=False)
    watchlist = approved_watchlist(detective, commander, [subject])
    change = {
        "enrolment": lambda: reference_images_enrol(image_ids=[image.pk]),
        "duplicate confirmation": lambda: reference_image_confirm_duplicate(
            actor=detective, image=ReferenceImage.objects.get(pk=image.pk), justification="Known alias"),
        "upload": lambda: reference_image_add(actor=detective, subject=subject, data=person_jpeg(2),
                                              image_source="CUS/6", enrol=False),
        "image deletion": lambda: reference_image_delete(actor=detective, image=image),
        "subject edit": lambda: subject_update(actor=detective, subject=subject, expected_version=subject.version,
                                               changes={"reason": "Wanted for two robberies"}),
        "purge": lambda: subjects_purge_expired(today=subject.expires_on),
        "new subject": lambda: subject_enrol(
            actor=detective, reference="REF-NEW", name="New Subject", category="suspected_of_offence",
            reason="Wanted for robbery", legal_basis="PACE s.24", watchlist=watchlist,
            images=[ReferenceImageUpload(data=person_jpeg(2), image_source="CUS/8")], enrol=False),
    }[path]

    assert _while_a_commander_holds_the_watchlist(watchlist, change) == []
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.DRAFT


@pytest.mark.django_db(transaction=True)
def test_an_image_enrolled_while_the_draft_is_being_submitted_returns_it(detective, commander):
    subject = enrolled_subject(detective, 0)
    watchlist = approved_watchlist(detective, commander, [subject])
    image = reference_image_add(actor=detective, subject=subject, data=person_jpeg(1), image_source="CUS/7",
                                enrol=False)  # the watchlist is draft again

    def submit():  # what watchlist_submit writes under the lock
        Watchlist.objects.filter(pk=watchlist.pk).update(status=Watchlist.Status.SUBMITTED)

    enrol = lambda: reference_images_enrol(image_ids=[image.pk])  # noqa: E731
    assert _while_a_commander_holds_the_watchlist(watchlist, enrol, in_lock=submit) == []
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.DRAFT
