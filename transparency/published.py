"""The published record and the notice in words: one wording shared by the public pages' feeds (Atom, JSON)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateformat import format as date_format

from transparency.selectors import PublicEntry

DATE = "l j F Y"
TIME = "H:i"


def window_words(entry: PublicEntry) -> str:
    """"Saturday 5 December 2026, 10:00 to 14:00" in local time; the actual times once it has run."""
    start = timezone.localtime(entry.went_live_at if entry.figures is not None and entry.went_live_at else entry.starts_at)
    end = timezone.localtime(entry.ended_at if entry.figures is not None and entry.ended_at else entry.ends_at)
    if start.date() == end.date():
        return f"{date_format(start, DATE)}, {date_format(start, TIME)} to {date_format(end, TIME)}"
    return f"{date_format(start, DATE)} {date_format(start, TIME)} to {date_format(end, DATE)} {date_format(end, TIME)}"


def entry_title(entry: PublicEntry) -> str:
    what = "Live facial recognition" if entry.upcoming else "Live facial recognition: the record"
    return f"{what}, {entry.notice.area}: {window_words(entry)}"


def record_figures(entry: PublicEntry) -> dict:
    """The published figures of an ended deployment, by plain name; {} before it has ended."""
    figures = entry.figures
    if figures is None:
        return {}
    return {
        "watchlist_size": figures.watchlist_size,
        "faces_seen": figures.faces,
        "passers_by": figures.tracks,
        "alerts": figures.alerts,
        "true_alerts": figures.outcomes.confirmed,
        "false_alerts": figures.outcomes.not_a_match,
        "engagements": figures.engagements,
        "engagements_after_false_alerts": figures.false_alert_engagements,
        "people_stopped_not_the_person_sought": figures.stops,
        "arrests": figures.arrests,
        "arrests_by_category": [{"category": c.code or None, "label": c.label, "count": c.count}
                                for c in figures.arrests_by_category.counts],
    }


FIGURE_WORDS = {
    "watchlist_size": "People on the watchlist",
    "faces_seen": "Faces seen",
    "passers_by": "Passers-by (tracks)",
    "alerts": "Alerts",
    "true_alerts": "True alerts",
    "false_alerts": "False alerts",
    "engagements": "Engagements by officers",
    "engagements_after_false_alerts": "Engagements after a false alert",
    "people_stopped_not_the_person_sought": "People stopped who were not the person sought",
    "arrests": "Arrests",
}


def entry_text(entry: PublicEntry) -> str:
    """The entry in plain text (the JSON feed's content_text; the Atom summary, escaped)."""
    notice = entry.notice
    lines = [f"When: {window_words(entry)} ({entry.status})", f"Where: {notice.area}", f"Why: {notice.purpose}"]
    more = " ".join(part for part in (notice.more_info, notice.more_info_url) if part)
    if more:
        lines.append(f"Find out more: {more}")
    figures = record_figures(entry)
    for key, words in FIGURE_WORDS.items():
        if key in figures:
            value = figures[key]
            lines.append(f"{words}: {'not recorded' if value is None else value}")
    if figures.get("arrests_by_category"):
        lines.append("Arrests by category: " + "; ".join(f"{row['label']}: {row['count']}"
                                                          for row in figures["arrests_by_category"]))
    return "\n".join(lines)
