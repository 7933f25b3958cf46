import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from core.errors import ConcurrentEditError, RuleViolation
from tests.factories import enrolled_subject
from watchlists.models import ReferenceImage, Subject, Watchlist
from watchlists.selectors import subjects_review_due
from watchlists.services import (
    subjects_purge_expired,
    watchlist_approve,
    watchlist_create,
    watchlist_reject,
    watchlist_review,
    watchlist_subjects_add,
    watchlist_submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Harbour", purpose="Missing persons at the harbour festival")


def test_compiled_by_one_approved_by_another(detective, commander, watchlist):
    subject = enrolled_subject(detective, 0)
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
    with pytest.raises(RuleViolation, match="only a watchlist submitted"):
        watchlist_approve(actor=commander, watchlist=watchlist)
    watchlist_submit(actor=detective, watchlist=watchlist)
    with pytest.raises(PermissionDenied):
        watchlist_approve(actor=detective, watchlist=watchlist)
    approved = watchlist_approve(actor=commander, watchlist=watchlist)
    assert approved.status == Watchlist.Status.APPROVED and approved.approved_by == commander
    assert AuditEvent.objects.filter(action="watchlist.approved", actor=commander).exists()


def test_nobody_approves_their_own_watchlist(make_user):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    watchlist = watchlist_create(actor=both, name="Mine", purpose="p")
    watchlist_subjects_add(actor=both, watchlist=watchlist, subjects=[enrolled_subject(both, 1)])
    watchlist_submit(actor=both, watchlist=watchlist)
    with pytest.raises(RuleViolation, match="someone else must approve"):
        watchlist_approve(actor=both, watchlist=watchlist)


def test_any_change_after_approval_returns_it_to_draft(detective, commander, watchlist):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[enrolled_subject(detective, 0)])
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist)
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[enrolled_subject(detective, 1)])
    watchlist.refresh_from_db()
    assert watchlist.status == Watchlist.Status.DRAFT and watchlist.approved_by is None
    assert AuditEvent.objects.filter(action="watchlist.returned_to_draft").exists()


def test_cap_is_enforced(detective, watchlist, settings):
    settings.WATCHLIST_MAX_SUBJECTS = 2
    subjects = [enrolled_subject(detective, i) for i in range(3)]
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=subjects[:2])
    with pytest.raises(RuleViolation, match="at most 2 subjects"):
        watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=subjects[2:])
    assert watchlist.entries.count() == 2


def test_stale_version_is_refused(detective, watchlist):
    subject = enrolled_subject(detective, 0)
    stale = watchlist.version
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject], expected_version=stale)
    with pytest.raises(ConcurrentEditError):
        watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[enrolled_subject(detective, 1)],
                               expected_version=stale)


def test_return_for_changes_and_review(detective, commander, watchlist):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[enrolled_subject(detective, 0)])
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_reject(actor=commander, watchlist=watchlist, reasons="Reason for subject 0 is too thin")
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.DRAFT
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist)
    Watchlist.objects.filter(pk=watchlist.pk).update(reviewed_at=timezone.now() - dt.timedelta(days=30))
    reviewed = watchlist_review(actor=commander, watchlist=watchlist, note="Still necessary")
    assert timezone.now() - reviewed.reviewed_at < dt.timedelta(minutes=1)


def test_returning_a_watchlist_for_changes_is_audited_as_rejected(detective, commander, watchlist):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[enrolled_subject(detective, 0)])
    watchlist_submit(actor=detective, watchlist=watchlist)
    watchlist_reject(actor=commander, watchlist=watchlist, reasons="  Reason for subject 0 is too thin ")
    rejected = AuditEvent.objects.get(action="watchlist.rejected")
    assert (rejected.actor, rejected.target_type, rejected.target_id) == (commander, "watchlists.watchlist",
                                                                          str(watchlist.pk))
    assert rejected.details == {"reasons": "Reason for subject 0 is too thin",
                                "version": Watchlist.objects.get(pk=watchlist.pk).version}
    # after the return to draft it causes, in the same transaction
    returned = AuditEvent.objects.get(action="watchlist.returned_to_draft")
    assert returned.sequence == rejected.sequence - 1


def test_retention_purges_images_embeddings_and_files_but_keeps_a_record(detective, commander, watchlist):
    keep = enrolled_subject(detective, 0)
    expire = enrolled_subject(detective, 1)
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[keep, expire])
    files = [Path(settings.PROTECTED_MEDIA_ROOT) / n for n in expire.images.values_list("file_name", flat=True)]
    assert all(f.exists() for f in files)
    Subject.objects.filter(pk=expire.pk).update(expires_on=timezone.localdate())

    assert subjects_purge_expired() == 1

    expire.refresh_from_db()
    assert expire.status == Subject.Status.PURGED and expire.purged_at is not None
    assert expire.reference == "PNC-0001" and expire.name == "Subject 1"  # the non-biometric record
    assert not ReferenceImage.objects.filter(subject=expire).exists()
    assert not watchlist.entries.filter(subject=expire).exists()
    assert ReferenceImage.objects.filter(subject=keep, embedding__isnull=False).count() == 1
    event = AuditEvent.objects.get(action="subject.purged")
    assert event.details["images_deleted"] == 1 and event.actor is None
    assert subjects_purge_expired() == 0


def test_purge_deletes_the_files_after_commit(detective, django_capture_on_commit_callbacks):
    subject = enrolled_subject(detective, 2)
    files = [Path(settings.PROTECTED_MEDIA_ROOT) / n for n in subject.images.values_list("file_name", flat=True)]
    Subject.objects.filter(pk=subject.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        subjects_purge_expired()
    assert files and not any(f.exists() for f in files)


def test_review_due_subjects_are_listed_for_their_owner(detective, make_user):
    other = make_user(Role.DETECTIVE)
    due = enrolled_subject(detective, 0)
    enrolled_subject(detective, 1)
    enrolled_subject(other, 2)
    Subject.objects.filter(pk=due.pk).update(review_date=timezone.localdate())
    assert list(subjects_review_due(user=detective)) == [due]
    assert list(subjects_review_due(user=other)) == []
