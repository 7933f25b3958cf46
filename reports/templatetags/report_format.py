"""How the reports write their figures: the same words on every page."""

from __future__ import annotations

import calendar
import datetime as dt

from django import template

register = template.Library()


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """12 h 05 min; 4 min 10 s; 38 s. A dash where there is nothing to measure."""
    if value is None:
        return "—"
    seconds = round(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def per_thousand(value: float | None) -> str:
    """False alerts per 1,000 faces, with enough digits to show a small rate (and its 1-in-N reading)."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    return f"{value:.3f} (1 in {round(1000 / value):,})"


@register.filter
def month_name(value: int) -> str:
    return calendar.month_name[int(value)]


@register.filter
def thousands(value: int | float | None) -> str:
    """12,345: a count with thousands separators (the CSVs keep plain numbers). A dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"
