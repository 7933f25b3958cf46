"""The codes an officer may record about the person seen on a false alert, and how they are checked.

One place for them: the adjudication service validates against these, the live page offers them, and the
statistics count by them. Everything here is what the officer *perceived*: the person is not asked.
Why these standards: docs/reports.md ("Demographics of false alerts").
"""

from __future__ import annotations

from django.db import models

from core.errors import RuleViolation


class Ethnicity(models.TextChoices):
    """Police officer-defined ethnicity, the "6+1" IC codes (as used on the PNC and over the radio)."""

    IC1 = "IC1", "IC1 – White, North European"
    IC2 = "IC2", "IC2 – White, South European"
    IC3 = "IC3", "IC3 – Black"
    IC4 = "IC4", "IC4 – Asian"
    IC5 = "IC5", "IC5 – Chinese, Japanese or other South East Asian"
    IC6 = "IC6", "IC6 – Middle Eastern"
    IC9 = "IC9", "IC9 – Unknown"


class PerceivedSex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    UNKNOWN = "unknown", "Unknown"


class AgeBand(models.TextChoices):
    UNDER_18 = "under_18", "Under 18"
    AGE_18_24 = "18_24", "18–24"
    AGE_25_34 = "25_34", "25–34"
    AGE_35_49 = "35_49", "35–49"
    AGE_50_64 = "50_64", "50–64"
    AGE_65_PLUS = "65_plus", "65 and over"
    UNKNOWN = "unknown", "Unknown"


# field name -> (its choices, the words used in messages and reports)
DEMOGRAPHIC_FIELDS: dict[str, tuple[type[models.TextChoices], str]] = {
    "ethnicity": (Ethnicity, "officer-defined ethnicity"),
    "perceived_sex": (PerceivedSex, "perceived sex"),
    "age_band": (AgeBand, "perceived age band"),
}


def demographics_clean(values) -> dict[str, str]:
    """The recorded fields, blanks dropped; an unknown field or code is refused with the codes allowed."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise RuleViolation("demographics must be given as named fields: " + ", ".join(DEMOGRAPHIC_FIELDS))
    cleaned = {}
    for name, value in values.items():
        if name not in DEMOGRAPHIC_FIELDS:
            raise RuleViolation(f"unknown demographics field {name!r}: only "
                                f"{', '.join(DEMOGRAPHIC_FIELDS)} may be recorded")
        if value in (None, ""):
            continue
        choices, words = DEMOGRAPHIC_FIELDS[name]
        if not isinstance(value, str) or value not in choices.values:
            raise RuleViolation(f"{value!r} is not a code for {words}: use one of {', '.join(choices.values)}")
        cleaned[name] = value
    return cleaned
