"""Subject pages: create (with an image), audited detail page, edit with optimistic locking, lists."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import make_subject, protected_files
from tests.samples import person_jpeg
from watchlists.models import InclusionCategory, ReferenceImage, Subject, Watchlist
from watchlists.services import subject_update, watchlist_create, watchlist_subjects_add

pytestmark = pytest.mark.django_db


def subject_form(**overrides) -> dict:
    values = {"reference": "PNC-26/000123X", "name": "Jordan Example", "category": InclusionCategory.WANTED_BY_COURTS,
              "reason": "Failed to appear at Snaresbrook Crown Court", "legal_basis": "Warrant W-2026-0042",
              "priority": "high", "date_of_birth": "1990-04-02", "under_18_justification": "",
              "review_date": "", "expires_on": "", "image_source": "", "capture_date": "",
              "engagement_instructions": "Arrest on warrant W-2026-0042 (Snaresbrook Crown Court)"}
    return values | overrides


def test_subject_form_is_for_detectives_only(request, client_as, detective):
    assert client_as(detective).get(reverse("watchlists:subject_create")).status_code == 200
    for role in ("commander", "oversight", "officer", "outsider"):
        client = client_as(request.getfixturevalue(role))
        assert client.get(reverse("watchlists:subject_create")).status_code == 403, role
        assert client.post(reverse("watchlists:subject_create"), subject_form()).status_code == 403, role
    assert not Subject.objects.exists()


def test_the_form_offers_only_the_closed_category_list(client_as, detective):
    page = client_as(detective).get(reverse("watchlists:subject_create")).content.decode()
    for value, label in InclusionCategory.choices:
        assert f'value="{value}"' in page and label in page
    assert "of_interest" not in page


def test_detective_creates_a_subject_without_an_image(client_as, detective):
    response = client_as(detective).post(reverse("watchlists:subject_create"), subject_form())
    subject = Subject.objects.get(reference="PNC-26/000123X")
    assert response.status_code == 302 and response.url == reverse("watchlists:subject_detail", args=[subject.pk])
    assert subject.added_by == detective and subject.priority == "high"
    assert subject.date_of_birth == dt.date(1990, 4, 2)
    assert subject.review_date == timezone.localdate() + dt.timedelta(days=settings.SUBJECT_REVIEW_DAYS)
    event = AuditEvent.objects.get(action="subject.created")
    assert event.actor == detective and event.client_ip == "127.0.0.1"


def test_subject_with_an_image_is_created_on_the_watchlist(client_as, detective):
    watchlist = watchlist_create(actor=detective, name="Op Lantern", purpose="p")
    upload = SimpleUploadedFile("face.jpg", person_jpeg(0), content_type="image/jpeg")
    response = client_as(detective).post(
        reverse("watchlists:subject_create"),
        subject_form(image=upload, image_source="Custody image CUS/2026/1182", capture_date="2025-06-01",
                     use_largest_face="on", watchlist=watchlist.pk))
    assert response.status_code == 302
    subject = Subject.objects.get(reference="PNC-26/000123X")
    image = ReferenceImage.objects.get(subject=subject)
    assert image.status == ReferenceImage.Status.PENDING and image.use_largest_face
    assert image.image_source == "Custody image CUS/2026/1182" and image.capture_date == dt.date(2025, 6, 1)
    assert image.original_name == "face.jpg"
    assert list(watchlist.entries.values_list("subject_id", flat=True)) == [subject.pk]


def test_under_18_without_justification_is_refused_and_nothing_is_saved(client_as, detective):
    child = (timezone.localdate() - dt.timedelta(days=365 * 15)).isoformat()
    response = client_as(detective).post(reverse("watchlists:subject_create"),
                                         subject_form(date_of_birth=child, category=InclusionCategory.MISSING_AT_RISK))
    assert response.status_code == 400
    assert "this subject is under 18: an additional recorded justification is required" in response.content.decode()
    assert not Subject.objects.exists() and not AuditEvent.objects.filter(action="subject.created").exists()

    response = client_as(detective).post(reverse("watchlists:subject_create"), subject_form(
        date_of_birth=child, category=InclusionCategory.MISSING_AT_RISK,
        under_18_justification="Missing from care, high risk of exploitation (MISPER 77/26)"))
    assert response.status_code == 302 and Subject.objects.get().under_18_justification.startswith("Missing from care")


def test_a_refused_image_leaves_no_subject_and_no_file(client_as, detective):
    before = protected_files()
    upload = SimpleUploadedFile("notes.pdf", b"%PDF-1.4 a document, not a photo", content_type="application/pdf")
    response = client_as(detective).post(reverse("watchlists:subject_create"),
                                         subject_form(image=upload, image_source="CUS/1"))
    assert response.status_code == 400 and "not a recognised image format" in response.content.decode()
    assert not Subject.objects.exists() and not ReferenceImage.objects.exists()
    assert protected_files() == before


def test_a_full_watchlist_leaves_no_subject_and_no_file(client_as, detective, settings):
    settings.WATCHLIST_MAX_SUBJECTS = 0
    watchlist = watchlist_create(actor=detective, name="Op Lantern", purpose="p")
    before = protected_files()
    upload = SimpleUploadedFile("face.jpg", person_jpeg(0), content_type="image/jpeg")
    response = client_as(detective).post(reverse("watchlists:subject_create"), subject_form(
        image=upload, image_source="CUS/1", watchlist=watchlist.pk))
    assert response.status_code == 400 and "a watchlist holds at most 0 subjects" in response.content.decode()
    assert not Subject.objects.exists() and not ReferenceImage.objects.exists() and not watchlist.entries.exists()
    assert protected_files() == before


def test_an_image_without_its_source_is_refused(client_as, detective):
    upload = SimpleUploadedFile("face.jpg", person_jpeg(0), content_type="image/jpeg")
    response = client_as(detective).post(reverse("watchlists:subject_create"), subject_form(image=upload))
    assert response.status_code == 400 and "the image source" in response.content.decode()
    assert not Subject.objects.exists()


def test_duplicate_reference_is_reported_on_the_form(client_as, detective):
    make_subject(detective, reference="PNC-26/000123X")
    response = client_as(detective).post(reverse("watchlists:subject_create"), subject_form())
    assert response.status_code == 400 and "already exists" in response.content.decode()


@pytest.mark.parametrize("role", ["detective", "commander", "oversight"])
def test_viewing_a_subject_page_is_audited(request, client_as, detective, role):
    subject = make_subject(detective)
    user = request.getfixturevalue(role)
    response = client_as(user).get(reverse("watchlists:subject_detail", args=[subject.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Failed to appear at Crown Court" in page and "Warrant W-2026-1182" in page
    event = AuditEvent.objects.get(action="subject.viewed")
    assert event.actor == user and event.target_id == str(subject.pk) and event.client_ip == "127.0.0.1"


@pytest.mark.parametrize("role", ["officer", "administrator", "outsider"])
def test_subject_page_is_forbidden_to_other_roles_and_nothing_is_recorded_as_viewed(request, client_as, detective, role):
    subject = make_subject(detective)
    response = client_as(request.getfixturevalue(role)).get(reverse("watchlists:subject_detail", args=[subject.pk]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="subject.viewed").exists()


def test_edit_saves_only_what_changed_and_needs_fresh_approval(client_as, detective, commander):
    subject = make_subject(detective)
    watchlist = watchlist_create(actor=detective, name="Op Lantern", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
    Watchlist.objects.filter(pk=watchlist.pk).update(status=Watchlist.Status.APPROVED, approved_by=commander)
    client = client_as(detective)
    form = client.get(reverse("watchlists:subject_edit", args=[subject.pk])).context["form"]
    data = {name: form[name].value() or ([] if name == "warning_markers" else "") for name in form.fields}
    data |= {"legal_basis": "Warrant W-2026-1183", "review_date": str(form["review_date"].value()),
             "expires_on": str(form["expires_on"].value())}
    response = client.post(reverse("watchlists:subject_edit", args=[subject.pk]), data)
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.legal_basis == "Warrant W-2026-1183" and subject.version == 2
    assert AuditEvent.objects.get(action="subject.updated").details["fields"] == ["legal_basis"]
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.DRAFT


def edit_data(subject, **overrides) -> dict:
    values = {"name": subject.name, "category": subject.category, "reason": subject.reason,
              "legal_basis": subject.legal_basis, "priority": subject.priority,
              "date_of_birth": "", "under_18_justification": "", "review_date": subject.review_date.isoformat(),
              "expires_on": subject.expires_on.isoformat(), "version": subject.version,
              "engagement_instructions": subject.engagement_instructions}
    return values | overrides


def test_a_stale_edit_is_a_409_and_changes_nothing(client_as, detective):
    subject = make_subject(detective)
    seen = Subject.objects.get(pk=subject.pk)
    subject_update(actor=detective, subject=subject, expected_version=1, changes={"name": "Changed Meanwhile"})
    response = client_as(detective).post(reverse("watchlists:subject_edit", args=[subject.pk]),
                                         edit_data(seen, reason="My edit"))
    assert response.status_code == 409
    assert "was changed by someone else since you opened it" in response.content.decode()
    subject.refresh_from_db()
    assert subject.reason != "My edit" and subject.name == "Changed Meanwhile"


def test_an_edit_that_breaks_a_rule_is_a_400(client_as, detective):
    subject = make_subject(detective)
    response = client_as(detective).post(reverse("watchlists:subject_edit", args=[subject.pk]),
                                         edit_data(subject, review_date=(subject.expires_on + dt.timedelta(days=1)).isoformat()))
    assert response.status_code == 400 and "the review date must not be after the expiry date" in response.content.decode()
    assert Subject.objects.get(pk=subject.pk).version == 1


def test_commanders_cannot_edit_subjects(client_as, detective, commander):
    subject = make_subject(detective)
    client = client_as(commander)
    assert client.get(reverse("watchlists:subject_edit", args=[subject.pk])).status_code == 403
    assert client.post(reverse("watchlists:subject_edit", args=[subject.pk]),
                       edit_data(subject, name="Nope")).status_code == 403


def test_subjects_index_searches_by_name_or_reference(client_as, detective, oversight):
    make_subject(detective, reference="ABC-1", name="Alice Archer")
    make_subject(detective, reference="XYZ-2", name="Bob Bowman")
    client = client_as(oversight)
    assert [s.reference for s in client.get(reverse("watchlists:subjects"), {"q": "bow"}).context["page"]] == ["XYZ-2"]
    assert [s.reference for s in client.get(reverse("watchlists:subjects"), {"q": "abc"}).context["page"]] == ["ABC-1"]
    assert "New subject" not in client.get(reverse("watchlists:subjects")).content.decode()
