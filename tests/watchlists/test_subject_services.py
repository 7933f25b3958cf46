import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import ConcurrentEditError, RuleViolation
from tests.factories import make_subject
from watchlists.models import InclusionCategory, Subject
from watchlists.services import subject_update

pytestmark = pytest.mark.django_db


def test_detective_adds_a_justified_subject(detective):
    subject = make_subject(detective)
    assert subject.added_by == detective and subject.status == Subject.Status.ACTIVE
    today = timezone.localdate()
    assert subject.review_date > today and subject.expires_on > subject.review_date
    event = AuditEvent.objects.get(action="subject.created")
    assert event.target_id == str(subject.pk) and event.details["legal_basis"] == "Warrant W-2026-1182"


@pytest.mark.parametrize("role_fixture", ["commander", "officer", "oversight", "outsider"])
def test_other_roles_cannot_add_subjects(request, role_fixture):
    with pytest.raises(PermissionDenied):
        make_subject(request.getfixturevalue(role_fixture))
    assert not Subject.objects.exists()


def test_category_must_come_from_the_closed_list(detective):
    with pytest.raises(RuleViolation, match="inclusion category must be one of"):
        make_subject(detective, category="of_interest")


@pytest.mark.parametrize("field", ["reason", "legal_basis"])
def test_reason_and_legal_basis_are_required(detective, field):
    with pytest.raises(RuleViolation, match="required"):
        make_subject(detective, **{field: "  "})


def test_under_18_needs_an_extra_justification(detective):
    child_dob = timezone.localdate() - dt.timedelta(days=365 * 15)
    with pytest.raises(RuleViolation, match="under 18"):
        make_subject(detective, date_of_birth=child_dob, category=InclusionCategory.MISSING_AT_RISK)
    subject = make_subject(detective, date_of_birth=child_dob, category=InclusionCategory.MISSING_AT_RISK,
                           under_18_justification="Missing from care, high risk of exploitation (MISPER 77/26)")
    assert AuditEvent.objects.get(action="subject.created").details["under_18"] is True
    assert subject.under_18_justification.startswith("Missing from care")


def test_references_are_unique(detective):
    make_subject(detective)
    with pytest.raises(RuleViolation, match="already exists"):
        make_subject(detective, name="Someone Else")


def test_expiry_must_be_in_the_future(detective):
    with pytest.raises(RuleViolation, match="expiry"):
        make_subject(detective, expires_on=timezone.localdate(), review_date=timezone.localdate())


def test_concurrent_edits_are_refused_not_lost(detective):
    subject = make_subject(detective)
    read_by_a = Subject.objects.get(pk=subject.pk)
    read_by_b = Subject.objects.get(pk=subject.pk)
    subject_update(actor=detective, subject=read_by_a, expected_version=read_by_a.version,
                   changes={"reason": "Reason updated by A"})
    with pytest.raises(ConcurrentEditError, match="changed by someone else"):
        subject_update(actor=detective, subject=read_by_b, expected_version=read_by_b.version,
                       changes={"reason": "Reason updated by B"})
    assert Subject.objects.get(pk=subject.pk).reason == "Reason updated by A"


def test_only_editable_fields_change(detective):
    subject = make_subject(detective)
    with pytest.raises(RuleViolation, match="cannot be changed"):
        subject_update(actor=detective, subject=subject, expected_version=subject.version,
                       changes={"added_by": None})


def test_a_test_subject_is_a_consenting_adult(detective):
    """Live testing: staff volunteers, enrolled and retained like any subject; never a child."""
    young = timezone.localdate() - dt.timedelta(days=365 * 16)
    with pytest.raises(RuleViolation, match="consenting adult"):
        make_subject(detective, category=InclusionCategory.TEST_SUBJECT, reason="Consent CONSENT-2026-099",
                     date_of_birth=young, under_18_justification="work experience")
    tester = make_subject(detective, reference="TEST-0009", category=InclusionCategory.TEST_SUBJECT,
                          reason="Consent CONSENT-2026-099", legal_basis="Consent (staff volunteer)")
    assert tester.expires_on > timezone.localdate()  # the same retention as every subject
    assert AuditEvent.objects.get(action="subject.created", target_id=str(tester.pk)).details["category"] == \
        "test_subject"
