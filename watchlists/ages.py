"""Age rules of watchlist entries: under-18 entries need a justification, and entries enrolled as children
alert only above a raised threshold."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from watchlists.models import ReferenceImage, Subject


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def reference_enrolled_as_child(*, subject: Subject, image: ReferenceImage) -> bool:
    """The reference image shows a child: younger than CHILD_ENTRY_MAX_AGE on the day it was taken (its capture
    date, else the day it was uploaded). Infants and small children lead the genuine false alerts
    (docs/evaluation.md, "Child entries")."""
    image_date = image.capture_date or timezone.localdate(image.created_at)
    return subject.date_of_birth is not None and age_on(subject.date_of_birth, image_date) < settings.CHILD_ENTRY_MAX_AGE


def reference_threshold_offset(*, subject: Subject, image: ReferenceImage) -> float:
    """How much more than the deployment's threshold this reference must score to alert."""
    return settings.CHILD_ENTRY_THRESHOLD_OFFSET if reference_enrolled_as_child(subject=subject, image=image) else 0.0


def image_age_years(taken_on: dt.date | None, today: dt.date | None = None) -> int | None:
    """Whole years since a reference photo was taken; None when its date is unknown."""
    return age_on(taken_on, today or timezone.localdate()) if taken_on else None


def reference_image_too_old(taken_on: dt.date | None, today: dt.date | None = None) -> bool:
    """The photo is REFERENCE_IMAGE_WARN_AGE_YEARS old or more: the person may no longer look like it."""
    years = image_age_years(taken_on, today)
    return years is not None and years >= settings.REFERENCE_IMAGE_WARN_AGE_YEARS
