"""Subject access: everything this system holds, or held, about one person, found by reference or name.

A person is known by the subject id that every record copies: the subject row (kept, without images, after
a purge), current watchlist entries, the non-biometric manifest of every deployment whose frozen watchlist
included them, and the alerts raised on them. Searching and exporting are audited reads: the query and
what it found go to the audit chain in the same transaction as the read.

No face image, embedding or protected file name leaves this module; images appear as metadata only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts.permissions import require_capability
from alerts.models import Alert
from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.services import audit_record
from core.downloads import spreadsheet_safe
from core.inputs import has_control_characters
from deployments.models import Deployment, ManifestEntry, SnapshotReference
from watchlists.models import InclusionCategory, ReferenceImage, Subject, WatchlistEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200
MAX_PEOPLE = 50  # a search naming more people than this is too broad for a subject access request
KEPT = "kept: no automatic deletion"


# --- accent-insensitive name matching -------------------------------------------------------------

def _letter_variants() -> dict[str, str]:
    """Each plain lower-case letter with every Latin letter (either case) that folds to it: {"e": "eEéÉèÈ..."}.

    Names are matched with a regular expression built from the query (``zoe`` -> ``[zZźŹ...][oOöÖ...][eEéÉ...]``)
    rather than by folding every row with translate() or unaccent(): no extension or migration is needed, and
    it measured ~35x faster than translate() over 500,000 manifest rows (bench/subject_access.py)."""
    variants: dict[str, list[str]] = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[0].lower()
        if base.isascii() and base.isalpha():
            variants.setdefault(base, []).append(char)
    for char, base in (("Ø", "o"), ("ø", "o"), ("Ł", "l"), ("ł", "l"), ("Đ", "d"), ("đ", "d"), ("ı", "i")):
        variants[base].append(char)
    return {base: "".join(dict.fromkeys(chars)) for base, chars in variants.items()}


_VARIANTS = _letter_variants()
_FOLD = {char: base for base, chars in _VARIANTS.items() for char in chars}


def name_pattern(query: str) -> str:
    """A PostgreSQL regular expression matching the query anywhere in a name, ignoring case and accents."""
    parts = []
    for char in query:
        base = _FOLD.get(char, char.lower())
        if base in _VARIANTS:
            parts.append(f"[{_VARIANTS[base]}]")
        elif char.isalpha() and len(char.upper()) == 1 and char.upper() != char.lower():
            parts.append(f"[{char.lower()}{char.upper()}]")
        else:
            parts.append(re.escape(char))  # punctuation, %, _ and the like are literal
    return "".join(parts)


def _named_by(query: str, *, reference_field: str, name_field: str) -> Q:
    """An exact reference (as typed, or upper-cased like PNC numbers), or part of a name."""
    return Q(**{f"{reference_field}__in": {query, query.upper()}}) | Q(**{f"{name_field}__regex": name_pattern(query)})


def clean_query(query: str | None) -> str:
    """The query as searched; a clear error when it is too short or too long to be a person."""
    if has_control_characters(query or ""):
        raise ValidationError("the search may hold only printable characters", code="control_characters")
    query = " ".join((query or "").split())
    if len(query) < MIN_QUERY_LENGTH:
        raise ValidationError(f"type at least {MIN_QUERY_LENGTH} characters of a name, or a full reference",
                              code="query_too_short")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError(f"the search may be at most {MAX_QUERY_LENGTH} characters", code="query_too_long")
    return query


# --- what is found, per person ----------------------------------------------------------------------

@dataclass
class DeploymentInclusion:
    """One deployment whose frozen watchlist included the person (from the kept manifest)."""

    entry: ManifestEntry
    reason: str  # from the frozen snapshot while it exists, or an alert's copy; "" when neither is left
    biometric_copy_held: bool

    @property
    def deployment(self) -> Deployment:
        return self.entry.deployment

    @property
    def category_label(self) -> str:
        return InclusionCategory(self.entry.category).label if self.entry.category in InclusionCategory.values \
            else self.entry.category

    @property
    def biometric_copy_deleted_at(self) -> dt.datetime | None:
        snapshot = getattr(self.deployment, "snapshot", None)
        return snapshot.biometrics_deleted_at if snapshot is not None else None

    @property
    def biometric_copy_retention(self) -> str:
        """When the frozen copy of the person's reference embeddings was, or will be, deleted."""
        deleted_at = self.biometric_copy_deleted_at
        if self.biometric_copy_held:
            hours = dt.timedelta(hours=settings.SNAPSHOT_DELETE_WITHIN_HOURS)
            end = self.deployment.ended_at or self.deployment.ends_at
            return f"held; deleted by {_when(end + hours)} at the latest"
        return f"deleted {_when(deleted_at)}" if deleted_at is not None else "none held"


@dataclass
class AlertInclusion:
    """One alert raised on the person (not alerts.AlertRecord, the statistics row that outlives it)."""

    alert: Alert

    @property
    def deletion_due(self) -> dt.datetime | None:
        """None while linked to a case: then it is kept for the case, beyond the retention period."""
        if self.alert.case_reference:
            return None
        return self.alert.created_at + dt.timedelta(days=settings.ALERT_RETENTION_DAYS)

    @property
    def retention(self) -> str:
        if self.alert.case_reference:
            return f"kept while linked to case {self.alert.case_reference}"
        return f"deleted (with the camera image) by {_when(self.deletion_due)}"


@dataclass
class Person:
    subject_id: int
    subject: Subject | None = None
    names: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    watchlist_entries: list[WatchlistEntry] = field(default_factory=list)
    images: list[ReferenceImage] = field(default_factory=list)
    deployments: list[DeploymentInclusion] = field(default_factory=list)
    alerts: list[AlertInclusion] = field(default_factory=list)
    audit_event_count: int | None = None  # filled for the report only

    @property
    def reference(self) -> str:
        return self.subject.reference if self.subject else (self.references[0] if self.references else "")

    @property
    def name(self) -> str:
        return self.subject.name if self.subject else (self.names[0] if self.names else "")

    @property
    def purged(self) -> bool:
        return self.subject is not None and self.subject.status == Subject.Status.PURGED

    @property
    def record_count(self) -> int:
        return (self.subject is not None) + len(self.watchlist_entries) + len(self.deployments) + len(self.alerts)

    @property
    def biometric_retention(self) -> str:
        if self.subject is None:
            return "no subject record"
        if self.purged:
            return f"images and embeddings deleted {_when(self.subject.purged_at)}"
        return f"images and embeddings deleted on expiry, {self.subject.expires_on:%d %b %Y}, or earlier"

    def _note(self, *, name: str, reference: str) -> None:
        if name and name not in self.names:
            self.names.append(name)
        if reference and reference not in self.references:
            self.references.append(reference)


@dataclass
class SubjectAccessResult:
    query: str
    people: list[Person]
    truncated: bool  # more than MAX_PEOPLE matched: the caller should narrow the search

    @property
    def record_count(self) -> int:
        return sum(person.record_count for person in self.people)


def _when(moment) -> str:
    if isinstance(moment, dt.datetime):
        return timezone.localtime(moment).strftime("%d %b %Y %H:%M")
    return moment.strftime("%d %b %Y")


# --- the search ------------------------------------------------------------------------------------

def _matching_subject_ids(query: str) -> tuple[list[int], bool]:
    """Subject ids named by the query in any source, at most MAX_PEOPLE (+1 to tell it was cut)."""
    limit = MAX_PEOPLE + 1
    sources = [
        Subject.objects.filter(_named_by(query, reference_field="reference", name_field="name"))
        .values_list("pk", flat=True),
        ManifestEntry.objects.filter(_named_by(query, reference_field="subject_reference", name_field="name"))
        .values_list("subject_id", flat=True),
        Alert.objects.filter(_named_by(query, reference_field="subject_reference", name_field="subject_name"))
        .values_list("subject_id", flat=True),
    ]
    found: dict[int, None] = {}
    for source in sources:
        for subject_id in source.order_by().distinct()[:limit]:
            found[subject_id] = None
    ids = sorted(found)
    return ids[:MAX_PEOPLE], len(ids) > MAX_PEOPLE


def _people(subject_ids: list[int]) -> list[Person]:
    """Every record of these people, in a fixed number of queries whatever their number."""
    people = {pk: Person(subject_id=pk) for pk in subject_ids}
    if not people:
        return []
    for subject in Subject.objects.filter(pk__in=subject_ids):
        people[subject.pk].subject = subject
        people[subject.pk]._note(name=subject.name, reference=subject.reference)
    for entry in (WatchlistEntry.objects.filter(subject_id__in=subject_ids).select_related("watchlist")
                  .order_by("added_at", "pk")):
        people[entry.subject_id].watchlist_entries.append(entry)
    for image in (ReferenceImage.objects.filter(subject_id__in=subject_ids).order_by("pk")
                  .only("pk", "subject_id", "status", "image_source", "capture_date", "created_at", "enrolled_at",
                        "model_id")):
        people[image.subject_id].images.append(image)

    alerts = list(Alert.objects.filter(subject_id__in=subject_ids).select_related("deployment", "camera")
                  .prefetch_related("adjudications").order_by("created_at", "pk"))
    alert_reasons = {(a.deployment_id, a.subject_id): a.reason for a in alerts}
    frozen = {(row["snapshot__deployment_id"], row["subject_id"]): row["reason"]
              for row in SnapshotReference.objects.filter(subject_id__in=subject_ids)
              .values("snapshot__deployment_id", "subject_id", "reason")}
    for entry in (ManifestEntry.objects.filter(subject_id__in=subject_ids)
                  .select_related("deployment", "deployment__snapshot").order_by("deployment__starts_at", "pk")):
        key = (entry.deployment_id, entry.subject_id)
        person = people[entry.subject_id]
        person._note(name=entry.name, reference=entry.subject_reference)
        person.deployments.append(DeploymentInclusion(
            entry=entry, reason=entry.reason or frozen.get(key) or alert_reasons.get(key, ""),
            biometric_copy_held=key in frozen))
    for alert in alerts:
        people[alert.subject_id]._note(name=alert.subject_name, reference=alert.subject_reference)
        people[alert.subject_id].alerts.append(AlertInclusion(alert=alert))
    return sorted(people.values(), key=lambda p: (p.name.casefold(), p.subject_id))


def subject_access_search(*, user: User, query: str) -> SubjectAccessResult:
    """Everyone the query names (exact reference, or part of a name ignoring case and accents), with
    every record held about them. Audited: who searched, for what, and how much was found."""
    require_capability(user=user, capability="search_subject_access")
    query = clean_query(query)
    with transaction.atomic():
        subject_ids, truncated = _matching_subject_ids(query)
        result = SubjectAccessResult(query=query, people=_people(subject_ids), truncated=truncated)
        audit_record(actor=user, action=AuditAction.SUBJECT_ACCESS_SEARCHED, details={
            "query": query, "people": len(result.people), "records": result.record_count,
            "truncated": truncated, "subject_ids": [p.subject_id for p in result.people]})
    return result


# --- the report for one person ---------------------------------------------------------------------

EXPORT_FORMATS = ("html", "csv", "json")


def subject_access_report(*, user: User, subject_id: int, export_format: str) -> Person:
    """Everything held about one person, for a subject access request. Every export is audited."""
    require_capability(user=user, capability="search_subject_access")
    if export_format not in EXPORT_FORMATS:
        raise ValidationError(f"unknown format {export_format!r}; use one of {', '.join(EXPORT_FORMATS)}")
    with transaction.atomic():
        people = _people([subject_id])
        person = people[0]
        if person.record_count == 0:
            raise Http404("nothing is held about this subject id")
        person.audit_event_count = (AuditEvent.objects.filter(target_type="watchlists.subject",
                                                              target_id=str(subject_id)).count())
        audit_record(actor=user, action=AuditAction.SUBJECT_ACCESS_EXPORTED, target=("watchlists.subject", subject_id),
                     details={
                         "reference": person.reference, "format": export_format, "records": person.record_count,
                         "deployments": len(person.deployments), "alerts": len(person.alerts)})
    return person


def report_rows(person: Person) -> list[dict[str, str]]:
    """The report as flat rows (CSV, JSON): one per record held, with when it was or will be deleted."""
    rows: list[dict[str, str]] = []

    def add(record: str, when, details: str, status: str, retention: str) -> None:
        rows.append({"record": record, "when": _when(when) if when else "", "details": details, "status": status,
                     "retention": retention})

    subject = person.subject
    if subject is not None:
        born = f"{subject.date_of_birth:%d %b %Y}" if subject.date_of_birth else "not recorded"
        add("Subject record", subject.created_at, f"{subject.reference}; {subject.name}; date of birth {born}",
            subject.get_status_display(), f"non-biometric record {KEPT}")
        add("Reason for inclusion", subject.created_at,
            f"{subject.get_category_display()}: {subject.reason} (legal basis: {subject.legal_basis})",
            f"review due {subject.review_date:%d %b %Y}", person.biometric_retention)
    for image in person.images:
        captured = f"; captured {image.capture_date:%d %b %Y}" if image.capture_date else ""
        add("Reference image (metadata only)", image.created_at, f"source {image.image_source}{captured}",
            image.get_status_display(), person.biometric_retention)
    for entry in person.watchlist_entries:
        add("On watchlist", entry.added_at, entry.watchlist.name, entry.watchlist.get_status_display(),
            f"removed on expiry, {subject.expires_on:%d %b %Y}, or earlier" if subject else "")
    for inclusion in person.deployments:
        deployment = inclusion.deployment
        ran = f" (live from {_when(deployment.went_live_at)}" if deployment.went_live_at else ""
        ran += f" to {_when(deployment.ended_at)})" if ran and deployment.ended_at else (")" if ran else "")
        reason = f": {inclusion.reason}" if inclusion.reason else ""
        add("Included in a deployment's watchlist", deployment.starts_at,
            f"{deployment.name}, {deployment.location}; {_when(deployment.starts_at)} to {_when(deployment.ends_at)}"
            f"{ran}; {inclusion.category_label}{reason}",
            deployment.get_state_display(),
            f"manifest entry {KEPT}; frozen biometric copy {inclusion.biometric_copy_retention}")
    for inclusion in person.alerts:
        alert = inclusion.alert
        decisions = "; ".join(f"{a.get_kind_display()}: {a.get_decision_display() or a.get_result_display()} "
                              f"{_when(a.decided_at)}"
                              for a in alert.adjudications.all())
        add("Alert", alert.created_at,
            f"{alert.deployment.name}, camera at {alert.camera.location}; score {alert.score:.2f} "
            f"(threshold {alert.threshold:.2f})" + (f"; {decisions}" if decisions else "")
            + (f"; outcome: {alert.outcome}" if alert.outcome else ""),
            alert.get_status_display(), inclusion.retention)
    if person.audit_event_count:
        add("Audit log entries about the subject record", None, f"{person.audit_event_count} event(s)", "",
            "kept: the audit log is append-only")
    return rows


REPORT_COLUMNS = ["record", "when", "details", "status", "retention"]


def report_csv(person: Person) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    for row in report_rows(person):
        writer.writerow({k: spreadsheet_safe(v) if v else v for k, v in row.items()})
    return out.getvalue()
