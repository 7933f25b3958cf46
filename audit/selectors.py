from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from accounts.permissions import require_capability
from audit.anchor_file import AnchorFileError, anchors_read
from audit.chain import GENESIS_HASH, event_hash
from audit.filters import AuditFilter
from audit.models import AuditAnchor, AuditEvent
from audit.services import event_fields
from core.inputs import BIGINT_MAX


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_sequence: int | None
    head_hash: str | None
    broken_sequence: int | None = None
    reason: str = ""
    file_anchors: int = 0  # lines of the anchor file outside the database that were matched
    file_anchors_signed: bool = False  # ... and their signatures checked with the key


def audit_chain_verify(*, chunk_size: int = 5000, anchor_file: str | None = None,
                       anchor_key: bytes | None = None) -> ChainReport:
    """Walk the whole chain in order; report the first event that does not hold. Then compare it with the
    anchors in the database and, given `anchor_file`, with the anchors outside it (signatures checked when
    `anchor_key` is given)."""
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=chunk_size):
        if event.sequence != expected_sequence:
            return ChainReport(False, checked, expected_sequence - 1, previous_hash, expected_sequence,
                               f"event #{expected_sequence} is missing (next present is #{event.sequence})")
        if event.prev_hash != previous_hash:
            return ChainReport(False, checked, expected_sequence - 1, previous_hash, event.sequence,
                               f"event #{event.sequence} does not link to the hash of event #{event.sequence - 1}")
        recomputed = event_hash(event_fields(event))
        if recomputed != event.hash:
            return ChainReport(False, checked, expected_sequence - 1, previous_hash, event.sequence,
                               f"event #{event.sequence} ({event.action}) was altered: its content no longer "
                               f"matches its hash")
        previous_hash = event.hash
        expected_sequence += 1
        checked += 1
    head = expected_sequence - 1
    head_hash = previous_hash if head else None
    broken_anchor = _first_broken_anchor(head_sequence=head)
    if broken_anchor is not None:
        sequence, reason = broken_anchor
        return ChainReport(False, checked, head or None, head_hash, sequence, reason)
    if anchor_file is None:
        return ChainReport(True, checked, head or None, head_hash)

    try:
        file_anchors = anchors_read(path=anchor_file, key=anchor_key)
    except (AnchorFileError, OSError) as exc:
        return ChainReport(False, checked, head or None, head_hash, None, f"the anchor file cannot be trusted: {exc}")
    hashes = dict(AuditEvent.objects.filter(sequence__in={a.sequence for a in file_anchors})
                  .values_list("sequence", "hash"))
    for anchor in file_anchors:
        where = f"line {anchor.line} of the anchor file ({anchor.at})"
        if anchor.sequence > head:
            return ChainReport(False, checked, head or None, head_hash, anchor.sequence,
                               f"the chain ends at #{head} but {where} saw event #{anchor.sequence}: events were "
                               "removed")
        if hashes.get(anchor.sequence) != anchor.hash:
            return ChainReport(False, checked, head or None, head_hash, anchor.sequence,
                               f"history was rewritten: {where} holds a different hash for event #{anchor.sequence}")
    return ChainReport(True, checked, head or None, head_hash, file_anchors=len(file_anchors),
                       file_anchors_signed=anchor_key is not None)


def _first_broken_anchor(*, head_sequence: int) -> tuple[int, str] | None:
    """A chain that verifies on its own may still have been rewritten: compare it with the heads recorded."""
    hashes = dict(AuditEvent.objects.filter(sequence__in=AuditAnchor.objects.values("head_sequence"))
                  .values_list("sequence", "hash"))
    for anchor in AuditAnchor.objects.order_by("head_sequence", "pk"):
        if anchor.head_sequence > head_sequence:
            return anchor.head_sequence, (f"the chain ends at #{head_sequence} but an anchor recorded at "
                                          f"{anchor.recorded_at:%Y-%m-%d %H:%M:%S} saw event #{anchor.head_sequence}: "
                                          f"events were removed")
        if hashes.get(anchor.head_sequence) != anchor.head_hash:
            return anchor.head_sequence, (f"history was rewritten: the anchor recorded at "
                                          f"{anchor.recorded_at:%Y-%m-%d %H:%M:%S} holds a different hash for event "
                                          f"#{anchor.head_sequence}")
    return None


# --- browsing the log ----------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50
LIST_FIELDS = ("sequence", "occurred_at", "actor_username", "actor_roles", "action", "target_type", "target_id",
               "deployment_id", "client_ip", "channel")


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first; `older` / `newer` are the keyset cursors for the links
    (?before=<older> / ?after=<newer>), None where there is nothing further that way."""

    events: list[AuditEvent]
    older: int | None
    newer: int | None


def audit_events(*, user, filters: AuditFilter) -> QuerySet[AuditEvent]:
    """The events a filter selects, unordered; only for those who may browse the log."""
    require_capability(user=user, capability="view_audit_log")
    return AuditEvent.objects.filter(filters.q())


def audit_event_page(*, user, filters: AuditFilter, before: int | None = None, after: int | None = None,
                     size: int = AUDIT_PAGE_SIZE, fields: tuple[str, ...] = LIST_FIELDS) -> AuditPage:
    """Keyset pagination on `sequence`: one indexed query per page (two when `after` reaches the
    newest events), never OFFSET and never a COUNT over the log. `fields`: the columns loaded (the
    API loads every hashed one)."""
    events = audit_events(user=user, filters=filters).only(*fields)
    if after is not None:
        rows = list(events.filter(sequence__gt=after).order_by("sequence")[:size + 1])
        if len(rows) > size:
            page = rows[:size][::-1]
            return AuditPage(page, older=page[-1].sequence, newer=page[0].sequence)
        before = None  # nothing newer beyond these: show the newest page, full
    if before is not None:
        events = events.filter(sequence__lt=before)
    rows = list(events.order_by("-sequence")[:size + 1])
    page = rows[:size]
    older = page[-1].sequence if len(rows) > size else None
    newer = page[0].sequence if before is not None and page else None
    if before is not None and not page:
        newer = before - 1  # an empty page past the oldest event still links back
    return AuditPage(page, older=older, newer=newer)


def access_audit_event(*, user, sequence: int) -> AuditEvent:
    require_capability(user=user, capability="view_audit_log")
    event = AuditEvent.objects.filter(sequence=sequence).first()
    if event is None:
        raise Http404("No audit event with that number.")
    return event


@dataclass(frozen=True)
class EventCheck:
    hash_matches: bool  # the stored content still gives the stored hash
    links_to_previous: bool | None  # prev_hash is the previous event's hash (None: previous missing)


def audit_event_check(*, event: AuditEvent) -> EventCheck:
    """The two checks `audit_verify` makes, for one event (shown on its page)."""
    if event.sequence == 1:
        links = event.prev_hash == GENESIS_HASH
    else:
        previous = AuditEvent.objects.filter(sequence=event.sequence - 1).values_list("hash", flat=True).first()
        links = None if previous is None else previous == event.prev_hash
    return EventCheck(hash_matches=event_hash(event_fields(event)) == event.hash, links_to_previous=links)


# --- what an event's object is -------------------------------------------------------------------

@dataclass(frozen=True)
class TargetLink:
    """An event's object as the log shows it: a label, and the object's page where it has one (that page checks
    its own permissions: the log only links)."""

    label: str
    url: str | None = None


Row = dict | None  # the object's fields loaded, None where it is no longer there
Describe = Callable[[str, Row, AuditEvent], TargetLink]


@dataclass(frozen=True)
class TargetKind:
    model: str | None  # "app_label.ModelName", looked up by name: the audit log imports none of the apps above it
    fields: tuple[str, ...]
    describe: Describe


def _link(name: str, *args) -> str:
    return reverse(name, args=args)


def _named(noun: str, url_name: str) -> Describe:
    """"Deployment 12: Oxford Circus", linking to its page; "Deployment 12" once gone."""
    return lambda pk, row, _: (TargetLink(f"{noun} {pk}: {row['name']}", _link(url_name, int(pk))) if row
                               else TargetLink(f"{noun} {pk}"))


def _alert(pk: str, row: Row, event: AuditEvent) -> TargetLink:
    # the alert has no page of its own: its deployment's live page, also once the alert is purged
    deployment_id = row["deployment_id"] if row else event.deployment_id
    return TargetLink(f"Alert {pk}", _link("alerts:live", deployment_id) if deployment_id else None)


def _of_deployment(noun: str, url_name: str) -> Describe:
    return lambda pk, row, _: (TargetLink(f"{noun} of deployment {row['deployment_id']}",
                                          _link(url_name, row["deployment_id"])) if row
                               else TargetLink(f"{noun} {pk}"))


TARGET_KINDS: dict[str, TargetKind] = {
    "deployments.deployment": TargetKind("deployments.Deployment", ("name",), _named("Deployment", "deployments:detail")),
    "watchlists.watchlist": TargetKind("watchlists.Watchlist", ("name",), _named("Watchlist", "watchlists:detail")),
    "deployments.camera": TargetKind(
        "deployments.Camera", ("name",),
        lambda pk, row, _: TargetLink(f"Camera {pk}: {row['name']}" if row else f"Camera {pk}",
                                      _link("deployments:cameras") if row else None)),
    "watchlists.subject": TargetKind(
        "watchlists.Subject", ("reference",),
        lambda pk, row, _: (TargetLink(f"Subject {row['reference']}", _link("watchlists:subject_detail", int(pk)))
                            if row else TargetLink(f"Subject {pk}"))),
    "watchlists.referenceimage": TargetKind(
        "watchlists.ReferenceImage", ("subject_id", "subject__reference"),
        # the subject's page, not the image: opening an image is itself audited
        lambda pk, row, _: (TargetLink(f"Image {pk} of subject {row['subject__reference']}",
                                       _link("watchlists:subject_detail", row["subject_id"]))
                            if row else TargetLink(f"Image {pk}"))),
    "watchlists.bulkimport": TargetKind(
        "watchlists.BulkImport", ("watchlist_id",),
        lambda pk, row, _: TargetLink(f"Bulk import {pk}",
                                      _link("watchlists:import_status", row["watchlist_id"], int(pk)) if row else None)),
    "alerts.alert": TargetKind("alerts.Alert", ("deployment_id",), _alert),
    "alerts.testwalk": TargetKind(
        "alerts.TestWalk", ("deployment_id",),
        lambda pk, row, event: TargetLink(f"Test walk {pk}", _link("alerts:live", row["deployment_id"]) if row else None)),
    "deployments.watchlistsnapshot": TargetKind("deployments.WatchlistSnapshot", ("deployment_id",),
                                                _of_deployment("Watchlist snapshot", "deployments:detail")),
    "deployments.postdeploymentrecord": TargetKind("deployments.PostDeploymentRecord", ("deployment_id",),
                                                   _of_deployment("Post-deployment record", "deployments:detail")),
    "auth.user": TargetKind(
        "auth.User", ("username",),
        lambda pk, row, _: (TargetLink(f"User {row['username']}", _link("accounts:user_detail", int(pk))) if row
                            else TargetLink(f"User {pk}"))),
    "auth.group": TargetKind("auth.Group", ("name",),
                             lambda pk, row, _: TargetLink(f"Role {row['name']}" if row else f"Role {pk}")),
    "audit.auditevent": TargetKind(None, (), lambda pk, _, __: TargetLink(f"Audit event #{pk}",
                                                                          _link("audit:event", int(pk)))),
    "recognition.modelcalibration": TargetKind(None, (), lambda pk, _, __: TargetLink(f"Calibration {pk}")),
}


def _is_id(value: str) -> bool:
    return value.isdigit() and int(value) <= BIGINT_MAX


def audit_event_targets(*, user, events: Iterable[AuditEvent]) -> dict[int, TargetLink]:
    """Each event's object (by event sequence) as a label and a link, loaded in bulk: one query per kind of
    object on the page, whatever the number of events. Events without an object are left out."""
    require_capability(user=user, capability="view_audit_log")
    events = [event for event in events if event.target_type]
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        kind = TARGET_KINDS.get(event.target_type)
        if kind and kind.model and _is_id(event.target_id):
            wanted[event.target_type].add(int(event.target_id))
    rows: dict[str, dict[str, dict]] = {}
    for target_type, ids in wanted.items():
        kind = TARGET_KINDS[target_type]
        model = apps.get_model(kind.model)
        rows[target_type] = {str(row.pop("pk")): row for row in model.objects.filter(pk__in=ids)
                             .values("pk", *kind.fields)}
    out = {}
    for event in events:
        kind = TARGET_KINDS.get(event.target_type)
        if kind is None or not _is_id(event.target_id):
            out[event.sequence] = TargetLink(f"{event.target_type} {event.target_id}".strip())
        else:
            out[event.sequence] = kind.describe(event.target_id, rows.get(event.target_type, {}).get(event.target_id),
                                                event)
    return out
