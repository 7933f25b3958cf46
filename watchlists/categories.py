"""Each inclusion category's own rules: what an entry must record, how long it may be kept, how often reviewed.

One table, read by the subject services (which refuse a subject breaking a rule, naming it), by the selector
listing existing entries that break a rule since it changed (the watchlist page flags them, approval refuses
them), and by the subject form (which shows the chosen category's rules). Why these numbers:
docs/watchlist_categories.md.

The longest retention and review interval count from the day the entry was last written (created or edited):
extending one is a fresh decision, audited, and sends every watchlist holding the subject back for approval.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from watchlists.models import InclusionCategory

# A telephone number (6 or more digits, spaces or dashes between): how a safeguarding contact is reached.
_CONTACT_NUMBER = re.compile(r"(?:\d[ \-]?){6,}")


@dataclass(frozen=True)
class FieldRule:
    field: str
    requirement: str  # what the entry must say, in words: shown in the form and in the refusal
    satisfied: Callable[[str], bool] = lambda value: bool(value.strip())


@dataclass(frozen=True)
class CategoryRules:
    category: InclusionCategory
    max_retention_days: int
    max_review_days: int
    fields: tuple[FieldRule, ...] = ()

    @property
    def label(self) -> str:
        return self.category.label

    def default_review_date(self, today: dt.date) -> dt.date:
        return today + dt.timedelta(days=min(settings.SUBJECT_REVIEW_DAYS, self.max_review_days))

    def default_expiry(self, today: dt.date) -> dt.date:
        return today + dt.timedelta(days=min(settings.SUBJECT_RETENTION_DAYS, self.max_retention_days))

    def problems(self, values: dict, *, written_on: dt.date) -> list[str]:
        """What breaks this category's rules in ``values`` (a subject's fields), for an entry written on
        ``written_on``; empty when nothing does."""
        found = [f"{self.label}: {rule.requirement}" for rule in self.fields
                 if not rule.satisfied(str(values.get(rule.field) or ""))]
        latest_expiry = written_on + dt.timedelta(days=self.max_retention_days)
        if values.get("expires_on") and values["expires_on"] > latest_expiry:
            found.append(f"{self.label}: kept at most {self.max_retention_days} days; the expiry must be on or "
                         f"before {latest_expiry:%d %b %Y}")
        latest_review = written_on + dt.timedelta(days=self.max_review_days)
        if values.get("review_date") and values["review_date"] > latest_review:
            found.append(f"{self.label}: reviewed at least every {self.max_review_days} days; the review date must "
                         f"be on or before {latest_review:%d %b %Y}")
        return found


_INSTRUCTIONS = "engagement_instructions"

RULES: dict[str, CategoryRules] = {rules.category.value: rules for rules in (
    CategoryRules(InclusionCategory.WANTED_BY_COURTS, max_retention_days=365, max_review_days=92, fields=(
        FieldRule(_INSTRUCTIONS, "the engagement instructions must name the warrant (number and court) and what "
                                 "to do on a match"),)),
    CategoryRules(InclusionCategory.SUSPECTED_OF_OFFENCE, max_retention_days=183, max_review_days=31),
    CategoryRules(InclusionCategory.SUBJECT_TO_RESTRICTION, max_retention_days=183, max_review_days=31, fields=(
        FieldRule(_INSTRUCTIONS, "the engagement instructions must name the order or bail conditions and which "
                                 "to check on a match"),)),
    CategoryRules(InclusionCategory.MISSING_AT_RISK, max_retention_days=30, max_review_days=7, fields=(
        FieldRule(_INSTRUCTIONS, "the engagement instructions must give a safeguarding contact with a telephone "
                                 "number", satisfied=lambda value: bool(_CONTACT_NUMBER.search(value))),)),
    CategoryRules(InclusionCategory.RISK_OF_HARM, max_retention_days=92, max_review_days=14, fields=(
        FieldRule(_INSTRUCTIONS, "the engagement instructions must say how officers keep the person and others "
                                 "safe on a match"),)),
    CategoryRules(InclusionCategory.VICTIM_WITNESS_ASSOCIATE, max_retention_days=28, max_review_days=7, fields=(
        FieldRule("exceptional_justification", "an exceptional justification is required: why this victim, "
                                               "witness or associate must be located and why no less intrusive "
                                               "means will do"),)),
    CategoryRules(InclusionCategory.TEST_SUBJECT, max_retention_days=365, max_review_days=92),
)}


def category_rules(category: str) -> CategoryRules | None:
    return RULES.get(category)


def category_problems(values: dict, *, written_on: dt.date) -> list[str]:
    """Every category rule ``values`` break (an unknown category is the service's own refusal)."""
    rules = category_rules(values.get("category", ""))
    return rules.problems(values, written_on=written_on) if rules else []


def rule_summary(rules: CategoryRules) -> list[str]:
    """The category's rules in words, for the subject form."""
    return [rule.requirement[0].upper() + rule.requirement[1:] for rule in rules.fields] + [
        f"Kept at most {rules.max_retention_days} days from the last edit.",
        f"Reviewed at least every {rules.max_review_days} days.",
    ]
