"""Each inclusion category's own rules (watchlists/categories.py): required fields, longest retention, review
interval; enforced on every write, and entries written before a rule changed are flagged, never altered."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from core.errors import RuleViolation
from tests.factories import make_subject
from watchlists.categories import RULES
from watchlists.models import InclusionCategory, Subject, Watchlist
from watchlists.selectors import subjects_breaking_category_rules
from watchlists.services import (
    subject_update,
    watchlist_approve,
    watchlist_create,
    watchlist_subjects_add,
    watchlist_submit,
)

pytestmark = pytest.mark.django_db

SAFEGUARDING = "Safeguarding: call the MISPER coordinator on 01632 960 123; do not detain"


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def test_every_category_has_rules():
    assert set(RULES) == set(InclusionCategory.values)
    victims = RULES[InclusionCategory.VICTIM_WITNESS_ASSOCIATE]
    assert victims.max_retention_days == min(r.max_retention_days for r in RULES.values())


@pytest.mark.parametrize("category, missing, rule", [
    (InclusionCategory.WANTED_BY_COURTS, {"engagement_instructions": ""}, "must name the warrant"),
    (InclusionCategory.SUBJECT_TO_RESTRICTION, {"engagement_instructions": " "}, "bail conditions"),
    (InclusionCategory.MISSING_AT_RISK, {"engagement_instructions": ""}, "safeguarding contact"),
    (InclusionCategory.MISSING_AT_RISK, {"engagement_instructions": "Call the safeguarding desk"},
     "safeguarding contact with a telephone number"),
    (InclusionCategory.RISK_OF_HARM, {"engagement_instructions": ""}, "keep the person and others safe"),
    (InclusionCategory.VICTIM_WITNESS_ASSOCIATE, {"exceptional_justification": ""}, "exceptional justification"),
])
def test_a_required_field_of_the_category_is_refused_naming_the_rule(detective, category, missing, rule):
    with pytest.raises(RuleViolation, match=rule) as refused:
        make_subject(detective, category=category, **({"engagement_instructions": SAFEGUARDING,
                                                       "exceptional_justification": "Key witness; at risk"} | missing))
    assert refused.value.messages[0].startswith(RULES[category].label)
    assert not Subject.objects.exists()


def test_categories_without_extra_fields_need_none(detective):
    assert make_subject(detective, category=InclusionCategory.SUSPECTED_OF_OFFENCE, engagement_instructions="")
    assert make_subject(detective, reference="VWA-1", category=InclusionCategory.VICTIM_WITNESS_ASSOCIATE,
                        engagement_instructions="", exceptional_justification="Sole witness to a murder; at risk")


@pytest.mark.parametrize("category", list(InclusionCategory.values))
def test_the_longest_retention_and_review_interval_are_enforced_and_the_defaults_keep_within(detective, category):
    rules = RULES[category]
    fields = {"category": category, "engagement_instructions": SAFEGUARDING,
              "exceptional_justification": "Sole witness to a murder; at risk"}
    with pytest.raises(RuleViolation, match=f"kept at most {rules.max_retention_days} days"):
        make_subject(detective, expires_on=days(rules.max_retention_days + 1), **fields)
    with pytest.raises(RuleViolation, match=f"reviewed at least every {rules.max_review_days} days"):
        make_subject(detective, review_date=days(rules.max_review_days + 1), **fields)
    at_the_limit = make_subject(detective, expires_on=days(rules.max_retention_days),
                                review_date=days(rules.max_review_days), **fields)
    defaults = make_subject(detective, reference="DEFAULTS", **fields)
    assert defaults.expires_on <= at_the_limit.expires_on and defaults.review_date <= at_the_limit.review_date


def test_missing_at_risk_defaults_to_a_week_and_a_month(detective):
    subject = make_subject(detective, category=InclusionCategory.MISSING_AT_RISK, engagement_instructions=SAFEGUARDING)
    assert (subject.review_date, subject.expires_on) == (days(7), days(30))


def test_an_edit_is_checked_against_the_rules_of_the_category_it_leaves_the_subject_in(detective):
    subject = make_subject(detective, expires_on=days(300))  # wanted by the courts: a year allowed
    with pytest.raises(RuleViolation, match="Missing and at increased risk: kept at most 30 days"):
        subject_update(actor=detective, subject=subject, expected_version=1, changes={
            "category": InclusionCategory.MISSING_AT_RISK, "engagement_instructions": SAFEGUARDING})
    subject.refresh_from_db()
    assert subject.category == InclusionCategory.WANTED_BY_COURTS and subject.version == 1


def test_warning_markers_are_checked_stored_in_list_order_and_audited(detective):
    with pytest.raises(RuleViolation, match="unknown warning marker"):
        make_subject(detective, warning_markers=["violent", "dangerous"])
    subject = make_subject(detective, warning_markers=["weapons", "violent", "weapons"])
    assert subject.warning_markers == ["violent", "weapons"]
    assert AuditEvent.objects.get(action="subject.created").details["warning_markers"] == ["violent", "weapons"]
    subject_update(actor=detective, subject=subject, expected_version=1, changes={
        "warning_markers": ["self_harm"], "engagement_instructions": "Arrest on warrant W-1; custody at Holborn"})
    details = AuditEvent.objects.get(action="subject.updated").details
    assert details["fields"] == ["engagement_instructions", "warning_markers"]
    assert details["after"] == {"warning_markers": ["self_harm"],
                                "engagement_instructions": "Arrest on warrant W-1; custody at Holborn"}


@pytest.fixture
def submitted_with_an_old_entry(detective):
    """A watchlist holding one entry that met the rules when written and one written before they existed."""
    good = make_subject(detective, reference="GOOD-1")
    old = make_subject(detective, reference="OLD-1", name="Old Entry")
    # As stored before the category rules: no instructions, kept two years.
    Subject.objects.filter(pk=old.pk).update(engagement_instructions="", expires_on=days(730))
    watchlist = watchlist_create(actor=detective, name="Op Old", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[good, old])
    return watchlist_submit(actor=detective, watchlist=watchlist), good, Subject.objects.get(pk=old.pk)


def test_an_entry_breaking_a_new_rule_is_listed_and_left_as_it_is(submitted_with_an_old_entry):
    watchlist, good, old = submitted_with_an_old_entry
    breaking = subjects_breaking_category_rules(watchlist=watchlist)
    assert [(s.reference, len(problems)) for s, problems in breaking] == [("OLD-1", 2)]
    assert "must name the warrant" in breaking[0][1][0] and "kept at most 365 days" in breaking[0][1][1]
    old.refresh_from_db()
    assert old.engagement_instructions == "" and old.expires_on == days(730) and old.version == 1


def test_the_watchlist_page_flags_it_and_approval_refuses_until_it_is_fixed(
        client_as, detective, commander, submitted_with_an_old_entry):
    watchlist, _, old = submitted_with_an_old_entry
    page = client_as(detective).get(reverse("watchlists:detail", args=[watchlist.pk])).content.decode()
    assert "Review needed: category rules changed" in page and "Old Entry (OLD-1)" in page
    subject_page = client_as(detective).get(reverse("watchlists:subject_detail", args=[old.pk])).content.decode()
    assert "Review needed: category rules changed" in subject_page

    with pytest.raises(RuleViolation, match="1 subject\\(s\\) break their category's rules.*OLD-1: Wanted by the "
                                            "courts: the engagement instructions must name the warrant"):
        watchlist_approve(actor=commander, watchlist=watchlist, unenrolled_acknowledged=True)
    response = client_as(commander).post(reverse("watchlists:approve", args=[watchlist.pk]), {
        "version": watchlist.version, "confirmed": "on", "unenrolled_acknowledged": "on"})
    assert response.status_code == 400 and "OLD-1" in response.content.decode()
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.SUBMITTED

    subject_update(actor=detective, subject=old, expected_version=old.version, changes={
        "engagement_instructions": "Arrest on warrant W-9 (Crown Court)", "expires_on": days(200)})
    watchlist = watchlist_submit(actor=detective, watchlist=Watchlist.objects.get(pk=watchlist.pk))
    assert subjects_breaking_category_rules(watchlist=watchlist) == []
    approved = watchlist_approve(actor=commander, watchlist=watchlist, unenrolled_acknowledged=True)
    assert approved.status == Watchlist.Status.APPROVED


def test_the_detectives_review_page_lists_their_own_entries_to_fix(client_as, detective, make_user,
                                                                    submitted_with_an_old_entry):
    page = client_as(detective).get(reverse("watchlists:review_due"))
    assert [s.reference for s, _ in page.context["breaking"]] == ["OLD-1"]
    assert "must name the warrant" in page.content.decode()
    other = client_as(make_user(Role.DETECTIVE)).get(reverse("watchlists:review_due"))
    assert other.context["breaking"] == []


def test_the_form_shows_the_rules_of_each_category(client_as, detective):
    page = client_as(detective).get(reverse("watchlists:subject_create")).content.decode()
    assert 'data-category="missing_at_risk"' in page and "Kept at most 30 days from the last edit." in page
    assert "safeguarding contact with a telephone number" in page


def test_the_subject_form_saves_markers_and_instructions(client_as, detective):
    response = client_as(detective).post(reverse("watchlists:subject_create"), {
        "reference": "MIS-1", "name": "Robin Example", "category": InclusionCategory.MISSING_AT_RISK,
        "reason": "Missing from care since 28 Nov; at risk of exploitation", "legal_basis": "Children Act 1989 s.46",
        "priority": "high", "warning_markers": ["self_harm", "mental_health"],
        "engagement_instructions": SAFEGUARDING})
    assert response.status_code == 302, response.content.decode()
    subject = Subject.objects.get(reference="MIS-1")
    assert subject.warning_markers == ["self_harm", "mental_health"]
    assert subject.engagement_instructions == SAFEGUARDING and subject.expires_on == days(30)
    page = client_as(detective).get(reverse("watchlists:subject_detail", args=[subject.pk])).content.decode()
    assert "Self-harm or suicidal" in page and "01632 960 123" in page

    refused = client_as(detective).post(reverse("watchlists:subject_create"), {
        "reference": "MIS-2", "name": "Sam Example", "category": InclusionCategory.MISSING_AT_RISK,
        "reason": "Missing", "legal_basis": "s.46", "priority": "high", "engagement_instructions": "find them"})
    assert refused.status_code == 400
    assert "safeguarding contact with a telephone number" in refused.content.decode()
