"""What an officer reads before deciding on an entry: its photo's age and its warning markers, in words."""

from __future__ import annotations

from django import template
from django.conf import settings

from watchlists.ages import image_age_years, reference_image_too_old
from watchlists.models import WarningMarker

register = template.Library()

_MARKER_LABELS = dict(WarningMarker.choices)


@register.filter
def marker_labels(codes) -> list[str]:
    return [_MARKER_LABELS.get(code, code) for code in codes or []]


@register.inclusion_tag("watchlists/_image_date.html")
def image_date(taken_on):
    """The date a reference photo was taken, its age, and a warning past REFERENCE_IMAGE_WARN_AGE_YEARS."""
    return {"taken_on": taken_on, "years": image_age_years(taken_on), "too_old": reference_image_too_old(taken_on),
            "warn_years": settings.REFERENCE_IMAGE_WARN_AGE_YEARS}
