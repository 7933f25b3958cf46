"""The approval page: each subject's evidence (photo through the audited image view, category, reason, photo age,
warning markers, engagement instructions), a confirmation the server requires, bounded queries at 2,500."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import enrolled_subject
from watchlists.models import InclusionCategory, ReferenceImage, Subject, Watchlist, WatchlistEntry
from watchlists.services import subject_update, watchlist_create, watchlist_subjects_add, watchlist_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(detective, settings):
    settings.REFERENCE_IMAGE_WARN_AGE_YEARS = 3
    subject = enrolled_subject(detective, 0, reference="EVID-1")
    subject = subject_update(actor=detective, subject=subject, expected_version=subject.version, changes={
        "warning_markers": ["firearms"], "engagement_instructions": "Armed response only: do not approach"})
    old_photo = timezone.localdate().replace(year=timezone.localdate().year - 4)
    ReferenceImage.objects.filter(subject=subject).update(capture_date=old_photo)
    watchlist = watchlist_create(actor=detective, name="Op Evidence", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
    return watchlist_submit(actor=detective, watchlist=watchlist), subject


def test_the_page_shows_each_subjects_evidence(client_as, commander, submitted):
    watchlist, subject = submitted
    image = ReferenceImage.objects.get(subject=subject)
    page = client_as(commander).get(reverse("watchlists:approve", args=[watchlist.pk])).content.decode()
    thumbnail = reverse("watchlists:image", args=[image.pk])
    assert f'src="{thumbnail}"' in page
    assert "Suspected of an offence" in page and "Wanted for robbery" in page
    assert "(4 years)" in page and "over 3 years old" in page
    assert "Firearms" in page and "Armed response only: do not approach" in page
    # The thumbnail is the permission-checked image view: each look is audited.
    assert client_as(commander).get(thumbnail).status_code == 200
    assert AuditEvent.objects.filter(action="reference_image.viewed", target_id=str(image.pk)).exists()


def test_the_photo_age_is_flagged_on_the_subject_and_watchlist_pages_too(client_as, detective, submitted):
    watchlist, subject = submitted
    for url in (reverse("watchlists:subject_detail", args=[subject.pk]), reverse("watchlists:detail", args=[watchlist.pk])):
        assert "over 3 years old" in client_as(detective).get(url).content.decode()


def test_a_recent_photo_is_not_flagged(client_as, commander, submitted):
    watchlist, subject = submitted
    ReferenceImage.objects.filter(subject=subject).update(capture_date=timezone.localdate() - dt.timedelta(days=40))
    page = client_as(commander).get(reverse("watchlists:approve", args=[watchlist.pk])).content.decode()
    assert "under a year" in page and "years old" not in page


def test_an_unconfirmed_approval_is_refused_with_a_message(client_as, commander, submitted):
    watchlist, _ = submitted
    url = reverse("watchlists:approve", args=[watchlist.pk])
    page = client_as(commander).get(url).content.decode()
    assert 'name="confirmed"' in page and "data-confirm=" in page
    refused = client_as(commander).post(url, {"version": watchlist.version})
    assert refused.status_code == 400
    assert "confirm that you have checked each subject" in refused.content.decode()
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.SUBMITTED
    done = client_as(commander).post(url, {"version": watchlist.version, "confirmed": "on"})
    assert done.status_code == 302
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.APPROVED


def test_the_approval_page_is_for_authorising_officers(client_as, detective, submitted):
    watchlist, _ = submitted
    assert client_as(detective).get(reverse("watchlists:approve", args=[watchlist.pk])).status_code == 403


def test_queries_do_not_grow_with_a_2500_subject_watchlist(client_as, detective, commander,
                                                           django_assert_max_num_queries):
    today = timezone.localdate()
    watchlist = watchlist_create(actor=detective, name="Op Big", purpose="p")
    subjects = Subject.objects.bulk_create([
        Subject(reference=f"BIG-{i:05d}", name=f"Person {i:05d}", category=InclusionCategory.SUSPECTED_OF_OFFENCE,
                reason="Robbery series", legal_basis="PACE s.24", added_by=detective, warning_markers=["violent"],
                review_date=today + dt.timedelta(days=30), expires_on=today + dt.timedelta(days=180))
        for i in range(2500)])
    WatchlistEntry.objects.bulk_create([WatchlistEntry(watchlist=watchlist, subject=s, added_by=detective)
                                        for s in subjects])
    Watchlist.objects.filter(pk=watchlist.pk).update(status=Watchlist.Status.SUBMITTED)
    client = client_as(commander)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("watchlists:approve", args=[watchlist.pk]))
    assert response.status_code == 200 and len(response.context["page"]) == 100
    assert "2500 subjects on this watchlist have no enrolled image" in response.content.decode()
