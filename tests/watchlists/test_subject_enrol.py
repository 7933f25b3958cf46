"""subject_enrol: a new subject, its watchlist entry and its photos, all or nothing (DB and files)."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from audit.models import AuditEvent
from core.errors import ConcurrentEditError, RuleViolation
from tests.factories import make_subject, protected_files
from tests.samples import person_jpeg
from watchlists.models import InclusionCategory, ReferenceImage, Subject, Watchlist, WatchlistEntry
from watchlists.services import ReferenceImageUpload, subject_enrol, watchlist_create

pytestmark = pytest.mark.django_db

SUBJECT = {"reference": "PNC-26/000123X", "name": "Jordan Example", "category": InclusionCategory.WANTED_BY_COURTS,
           "reason": "Failed to appear at Snaresbrook Crown Court", "legal_basis": "Warrant W-2026-0042",
           "engagement_instructions": "Arrest on warrant W-2026-0042 (Snaresbrook Crown Court)"}


def photo(index: int = 0, **overrides) -> ReferenceImageUpload:
    values = {"data": person_jpeg(index), "image_source": f"Custody image CUS/2026/{index}",
              "original_name": f"face{index}.jpg"}
    return ReferenceImageUpload(**(values | overrides))


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Lantern", purpose="Robbery series")


@pytest.fixture
def queued(monkeypatch):
    """The enrolment tasks sent (their image ids), instead of sending them to a broker."""
    from watchlists.tasks import reference_images_enrol_task

    sent: list[list[int]] = []
    monkeypatch.setattr(reference_images_enrol_task, "delay", sent.append)
    return sent


def actions_since(sequence: int) -> list[str]:
    return list(AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence").values_list("action", flat=True))


def last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def test_subject_photo_and_entry_in_one_call(detective, watchlist, queued, django_capture_on_commit_callbacks):
    before = last_sequence()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        subject = subject_enrol(actor=detective, watchlist=watchlist, images=[photo(capture_date=dt.date(2025, 6, 1),
                                                                                    use_largest_face=True)],
                                priority="high", **SUBJECT)
        assert queued == []  # nothing is sent before the commit
    image = ReferenceImage.objects.get(subject=subject)
    assert subject.added_by == detective and subject.priority == "high" and subject.status == Subject.Status.ACTIVE
    assert image.status == ReferenceImage.Status.PENDING and image.use_largest_face
    assert (image.image_source, image.original_name, image.capture_date) == (
        "Custody image CUS/2026/0", "face0.jpg", dt.date(2025, 6, 1))
    assert image.file_name.startswith(f"subjects/{subject.pk}/")
    assert list(watchlist.entries.values_list("subject_id", flat=True)) == [subject.pk]
    assert actions_since(before) == ["subject.created", "watchlist.subjects_added", "reference_image.added"]
    assert len(callbacks) == 1 and queued == [[image.pk]]  # enrolment queued after commit, by id


def test_an_approved_watchlist_returns_to_draft(detective, commander, watchlist):
    Watchlist.objects.filter(pk=watchlist.pk).update(status=Watchlist.Status.APPROVED, approved_by=commander)
    before = last_sequence()
    subject_enrol(actor=detective, watchlist=Watchlist.objects.get(pk=watchlist.pk), images=[photo()], **SUBJECT)
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.DRAFT
    assert actions_since(before) == ["subject.created", "watchlist.returned_to_draft", "watchlist.subjects_added",
                                     "reference_image.added"]


def test_without_a_watchlist_or_a_photo_it_is_subject_create(detective, queued, django_capture_on_commit_callbacks):
    before = last_sequence()
    with django_capture_on_commit_callbacks(execute=True):
        subject = subject_enrol(actor=detective, **SUBJECT)
    assert not subject.images.exists() and not WatchlistEntry.objects.exists()
    assert actions_since(before) == ["subject.created"] and queued == []


def test_several_photos_and_no_enrolment_task_for_bulk_import(detective, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        subject = subject_enrol(actor=detective, images=[photo(0), photo(1)], enrol=False, **SUBJECT)
    assert list(subject.images.order_by("pk").values_list("original_name", flat=True)) == ["face0.jpg", "face1.jpg"]
    assert queued == []  # the caller enrols them itself


def fill(watchlist, detective, count: int) -> None:
    """`count` subjects on the watchlist, written in bulk (what thousands of subject_create calls would leave)."""
    today = dt.date.today()
    subjects = Subject.objects.bulk_create([
        Subject(reference=f"FILL-{i:05d}", name=f"Filler {i}", category=InclusionCategory.SUSPECTED_OF_OFFENCE,
                reason="r", legal_basis="b", added_by=detective, review_date=today + dt.timedelta(days=30),
                expires_on=today + dt.timedelta(days=60)) for i in range(count)])
    WatchlistEntry.objects.bulk_create([WatchlistEntry(watchlist=watchlist, subject=s, added_by=detective)
                                        for s in subjects])


REFUSALS = {
    "a photo that is not an image": (lambda w, d: {"images": [photo(data=b"%PDF-1.4 not a photo")]},
                                     RuleViolation, "not a recognised image format"),
    "a later photo refused": (lambda w, d: {"images": [photo(0), photo(1), photo(data=b"GIF89a broken")]},
                              RuleViolation, "could not decode image"),
    "a photo without its source": (lambda w, d: {"images": [photo(image_source=" ")]},
                                   RuleViolation, "the image source"),
    "a photo over the size limit": (lambda w, d: {"images": [photo(data=b"x" * (settings.REFERENCE_IMAGE_MAX_BYTES + 1))]},
                                    RuleViolation, "the limit is"),
    "a subject rule": (lambda w, d: {"watchlist": w, "images": [photo()], "legal_basis": " "},
                       RuleViolation, "the legal basis is required"),
    "a reference already used": (lambda w, d: make_subject(d, reference=SUBJECT["reference"], name="Other") and
                                 {"watchlist": w, "images": [photo()]}, RuleViolation, "already exists"),
    "a watchlist changed meanwhile": (lambda w, d: {"watchlist": w, "watchlist_version": w.version + 1,
                                                    "images": [photo()]}, ConcurrentEditError, "changed by someone"),
    "a full watchlist": (lambda w, d: fill(w, d, settings.WATCHLIST_MAX_SUBJECTS) or
                         {"watchlist": w, "images": [photo()]}, RuleViolation, "holds at most 2500 subjects"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refusal_leaves_nothing_behind(detective, watchlist, queued, django_capture_on_commit_callbacks, case):
    arrange, error, message = REFUSALS[case]
    arguments = SUBJECT | arrange(watchlist, detective)
    subjects, entries = set(Subject.objects.values_list("pk", flat=True)), WatchlistEntry.objects.count()
    files, before = protected_files(), last_sequence()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(error, match=message):
        subject_enrol(actor=detective, **arguments)
    assert set(Subject.objects.values_list("pk", flat=True)) == subjects
    assert WatchlistEntry.objects.count() == entries and not ReferenceImage.objects.exists()
    assert protected_files() == files  # the earlier photos' files too
    assert actions_since(before) == [] and queued == []
    assert Watchlist.objects.get(pk=watchlist.pk).version == watchlist.version


def test_the_cap_is_2500_and_the_last_place_can_be_taken(detective, watchlist):
    assert settings.WATCHLIST_MAX_SUBJECTS == 2500
    fill(watchlist, detective, settings.WATCHLIST_MAX_SUBJECTS - 1)
    subject_enrol(actor=detective, watchlist=watchlist, **SUBJECT)
    assert watchlist.entries.count() == 2500


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "administrator", "outsider"])
def test_only_those_who_manage_watchlists_enrol_subjects(request, detective, watchlist, role):
    files, before = protected_files(), last_sequence()
    with pytest.raises(PermissionDenied):
        subject_enrol(actor=request.getfixturevalue(role), watchlist=watchlist, images=[photo()], **SUBJECT)
    assert not Subject.objects.exists() and not ReferenceImage.objects.exists() and not watchlist.entries.exists()
    assert protected_files() == files and actions_since(before) == []


def test_a_refused_photo_in_an_outer_transaction_leaves_its_caller_going(detective, watchlist):
    """Called inside a caller's transaction (bulk import's row), a refusal rolls back only this call."""
    with transaction.atomic():
        with pytest.raises(RuleViolation):
            subject_enrol(actor=detective, watchlist=watchlist, images=[photo(data=b"not an image")], **SUBJECT)
        kept = subject_enrol(actor=detective, watchlist=watchlist, **(SUBJECT | {"reference": "PNC-26/000124Y"}))
    assert list(Subject.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(watchlist.entries.values_list("subject_id", flat=True)) == [kept.pk]
