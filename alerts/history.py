"""An alert's adjudications as a history: amendments are new rows naming the one they replace, and the latest
of each chain counts. Pure functions over the rows already read (alerts.selectors.alert_payloads prefetches
them), so the live page's payload, the API and the services read the history the same way, with no query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from alerts.models import Adjudication

STAGE_ONE = (Adjudication.Kind.DECISION, Adjudication.Kind.VERIFICATION)


def superseded_ids(adjudications: Iterable[Adjudication]) -> set[int]:
    """The rows an amendment has replaced."""
    return {a.amends_id for a in adjudications if a.amends_id is not None}


def current(adjudications: Iterable[Adjudication], *kinds: str) -> list[Adjudication]:
    """The rows that count (not replaced by an amendment), oldest first, of the given kinds (all if none)."""
    rows = list(adjudications)
    replaced = superseded_ids(rows)
    return [a for a in rows if a.pk not in replaced and (not kinds or a.kind in kinds)]


def stage_one(adjudications: Iterable[Adjudication]) -> Adjudication | None:
    """The decision on the images that counts: a second officer's verification when there is one."""
    rows = current(adjudications, *STAGE_ONE)
    return rows[-1] if rows else None


def engagement(adjudications: Iterable[Adjudication]) -> Adjudication | None:
    rows = current(adjudications, Adjudication.Kind.ENGAGEMENT)
    return rows[-1] if rows else None


def first_of_chain(adjudication: Adjudication, adjudications: Iterable[Adjudication]) -> Adjudication:
    """The original decision an amendment (or an amendment of an amendment) replaces: its time starts the
    amendment window, so amending again does not extend it."""
    by_id = {a.pk: a for a in adjudications}
    row = adjudication
    while row.amends_id is not None and row.amends_id in by_id:
        row = by_id[row.amends_id]
    return row


def amendable_until(adjudication: Adjudication, adjudications: Iterable[Adjudication], *,
                    minutes: int) -> dt.datetime:
    return first_of_chain(adjudication, adjudications).decided_at + dt.timedelta(minutes=minutes)
