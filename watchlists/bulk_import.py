"""Bulk import: a CSV (one row per subject) plus a zip of images, for watchlists of thousands.

A bad row never sinks the batch: each row is its own transaction and ends in the per-row report as
enrolled, refused (with the reason) or duplicate (of which subject). Images are enrolled in batches
through the engine, so 2,500 rows are a few engine calls per hundred, not 2,500 form posts.

Nothing is read whole into memory: uploads arrive as files (core/uploads.py), are copied to protected
storage in chunks, and the CSV is parsed as a stream with caps on its size, line length, field length
and row count; a CSV that breaks one is refused at upload with the row named.

Each row's outcome is a BulkImportRow, unique per (import, row). The task is acks_late, so a worker that
dies mid-import has its task delivered again: the run then skips the rows already recorded, finishes
the ones a crash left between "subject created" and "enrolment decided", and goes on from there.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import logging
import os
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.permissions import require_capability
from audit.actions import AuditAction
from audit.services import audit_record
from core.errors import RuleViolation
from watchlists import services  # services.<name>, looked up at each call (the crash-resume test replaces one)
from watchlists.models import BulkImport, BulkImportRow, InclusionCategory, Priority, ReferenceImage, Subject, Watchlist
from watchlists.signals import bulk_import_requested
from watchlists.storage import protected_delete, protected_open, protected_path, protected_save_stream

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("reference", "name", "category", "reason", "legal_basis", "image")
OPTIONAL_COLUMNS = ("date_of_birth", "priority", "under_18_justification", "image_source", "capture_date",
                    "review_date", "expires_on", "warning_markers", "engagement_instructions",
                    "exceptional_justification", "use_largest_face")
# The template's one filled-in row, to copy: an import refuses it (by its reference) rather than enrol it.
EXAMPLE_REFERENCE = "EXAMPLE-1"
EXAMPLE_ROW = {
    "reference": EXAMPLE_REFERENCE, "name": "Example Person (replace this row)",
    "category": InclusionCategory.SUSPECTED_OF_OFFENCE,
    "reason": "Suspected of the robbery at 12 High Street on 3 March (CRIME/123/26)",
    "legal_basis": "Common law policing powers; PACE s.24", "image": "example-1.jpg;example-1-side.jpg",
    "date_of_birth": "1990-05-17", "priority": Priority.MEDIUM, "under_18_justification": "",
    "image_source": "Custody image CUS/2026/0001", "capture_date": "2026-01-15", "review_date": "",
    "expires_on": "", "warning_markers": "violent;weapons",
    "engagement_instructions": "Arrest on suspicion of robbery; officer in case DC Example, 01632 960000",
    "exceptional_justification": "", "use_largest_face": "no",
}
EXAMPLE_ROW_REFUSAL = "this is the template's example row: replace it with a real subject, or delete it"
_YES, _NO = frozenset({"yes", "y", "true", "1"}), frozenset({"no", "n", "false", "0", ""})
MAX_ROWS = 10_000
CHUNK_ROWS = 64
# Above the csv module's own field limit (128 KiB), so an over-long field is named as such.
LINE_MAX_BYTES = 256 * 1024
FIELD_MAX_CHARS = 10_000  # the longest legitimate field is a reason of a few paragraphs
# What a form post carries on top of its two files (boundaries, part headers, the CSRF token).
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# pg_try_advisory_lock(class, id): one runner per import, released when its connection ends (a crash).
_RUN_LOCK_CLASS = 0x4C465249

Status = BulkImportRow.Status


def upload_max_bytes() -> int:
    """The largest request body an import upload may be (both files), checked before it is parsed."""
    return settings.BULK_IMPORT_MAX_BYTES + settings.BULK_IMPORT_CSV_MAX_BYTES + MULTIPART_OVERHEAD_BYTES


def _lines(source: BinaryIO, position: list[int]) -> Iterator[str]:
    """Physical lines of the CSV, decoded one by one so an encoding error names its row."""
    first = True
    while raw := source.readline(LINE_MAX_BYTES + 1):
        if len(raw) > LINE_MAX_BYTES:
            raise RuleViolation(f"row {position[0] + 1}: a line is longer than {LINE_MAX_BYTES // 1024} KB")
        if first:
            raw, first = raw.removeprefix(codecs.BOM_UTF8), False
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RuleViolation(f"row {position[0] + 1}: the CSV is not UTF-8 text") from None
        if "\x00" in line:  # PostgreSQL text cannot hold it
            raise RuleViolation(f"row {position[0] + 1}: the CSV contains a NUL character")
        yield line


def _csv_rows(source: BinaryIO) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row) for each data row; the header is row 1. RuleViolation names the first bad row."""
    position = [0]  # rows read so far (the header counts); a list so _lines sees it move
    reader = csv.reader(_lines(source, position), strict=True)
    try:
        header = next(reader, None)
        columns = [c.strip() for c in header or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise RuleViolation(f"the CSV lacks the column(s) {', '.join(missing)}; "
                                f"required: {', '.join(REQUIRED_COLUMNS)}")
        position[0] = 1
        for record in reader:
            if not record:
                continue  # a blank line
            number = position[0] + 1
            if number - 1 > MAX_ROWS:
                raise RuleViolation(f"the CSV has more than {MAX_ROWS} rows; at most {MAX_ROWS} per import")
            row = dict.fromkeys(columns, "")
            for column, value in zip(columns, record, strict=False):
                if len(value) > FIELD_MAX_CHARS:
                    raise RuleViolation(f"row {number}: the {column or 'unnamed'} field is {len(value):,} characters "
                                        f"long; at most {FIELD_MAX_CHARS:,}")
                row[column] = value.strip()
            yield number, row
            position[0] = number
    except csv.Error as exc:
        row = position[0] + 1
        if "field larger than field limit" in str(exc):
            raise RuleViolation(f"row {row}: a field is longer than {FIELD_MAX_CHARS:,} characters") from None
        raise RuleViolation(f"row {row}: the CSV is malformed ({exc})") from None


def _size(file: BinaryIO) -> int:
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    return size


def bulk_import_start(*, actor: User, watchlist: Watchlist, csv_file: BinaryIO, zip_file: BinaryIO,
                      enqueue: bool = True) -> BulkImport:
    """Check and store an upload (binary file objects, read in chunks) and queue its import."""
    require_capability(user=actor, capability="manage_watchlist")
    zip_size, csv_size = _size(zip_file), _size(csv_file)
    if csv_size > settings.BULK_IMPORT_CSV_MAX_BYTES:
        raise RuleViolation(f"the CSV file is {csv_size / 1e6:.0f} MB; the limit is "
                            f"{settings.BULK_IMPORT_CSV_MAX_BYTES / 1e6:.0f} MB per import (split the list)")
    if zip_size > settings.BULK_IMPORT_MAX_BYTES:
        raise RuleViolation(f"the images file is {zip_size / 1e6:.0f} MB; the limit is "
                            f"{settings.BULK_IMPORT_MAX_BYTES / 1e6:.0f} MB per import (split the list)")
    total_rows = sum(1 for _ in _csv_rows(csv_file))
    if not total_rows:
        raise RuleViolation("the CSV has no rows")
    if not zipfile.is_zipfile(zip_file):
        raise RuleViolation("the images file is not a zip archive")
    zip_file.seek(0)
    csv_file.seek(0)
    zip_name, zip_sha = protected_save_stream(source=zip_file, folder="imports", suffix=".zip")
    csv_name = ""
    try:
        csv_name, _ = protected_save_stream(source=csv_file, folder="imports", suffix=".csv")
        with transaction.atomic():
            job = BulkImport.objects.create(watchlist=watchlist, created_by=actor, total_rows=total_rows,
                                            csv_file=csv_name, zip_file=zip_name)
            audit_record(actor=actor, action=AuditAction.BULK_IMPORT_STARTED, target=job,
                         details={"watchlist": watchlist.pk, "rows": total_rows, "zip_sha256": zip_sha})
            if enqueue:
                job_id = job.pk
                transaction.on_commit(lambda: bulk_import_requested.send(sender=BulkImport, import_id=job_id))
    except BaseException:
        protected_delete(zip_name)
        if csv_name:
            protected_delete(csv_name)
        raise
    return job


def _date(value: str, column: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RuleViolation(f"{column} {value!r} is not a date (YYYY-MM-DD)") from None


def _yes_no(value: str, column: str) -> bool:
    answer = value.strip().lower()
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    raise RuleViolation(f"{column} {value!r} must be yes, no or left blank")


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _row_create(job: BulkImport, archive: zipfile.ZipFile, number: int, row: dict[str, str]) -> BulkImportRow:
    """The subject and its images, recorded with the row in one transaction; or the row refused."""

    reference = row.get("reference", "")
    try:
        if reference.strip().upper() == EXAMPLE_REFERENCE:
            raise RuleViolation(EXAMPLE_ROW_REFUSAL)
        use_largest_face = _yes_no(row.get("use_largest_face", ""), "use_largest_face")
        names = [n.strip() for n in row["image"].split(";") if n.strip()]
        if not names:
            raise RuleViolation("no image file named in the 'image' column")
        payloads = []
        for name in names:
            try:
                info = archive.getinfo(name)
            except KeyError:
                raise RuleViolation(f"{name} is not in the zip file") from None
            limit = settings.REFERENCE_IMAGE_MAX_BYTES
            with archive.open(info) as member:
                data = member.read(limit + 1)  # the header's size can lie; the read cannot
            if info.file_size > limit or len(data) > limit:
                raise RuleViolation(f"{name} is {max(info.file_size, len(data)) / 1e6:.1f} MB uncompressed; "
                                    f"the limit is {limit / 1e6:.0f} MB")
            payloads.append(services.ReferenceImageUpload(
                data=data, original_name=name, image_source=row.get("image_source") or f"bulk import {job.pk}: {name}",
                capture_date=_date(row.get("capture_date", ""), "capture_date"), use_largest_face=use_largest_face))
        with transaction.atomic():
            # Not on the watchlist yet: a row's subject joins it once an image is enrolled (_rows_decide).
            subject = services.subject_enrol(
                actor=job.created_by, reference=reference, name=row["name"], category=row["category"],
                reason=row["reason"], legal_basis=row["legal_basis"], priority=row.get("priority") or Priority.MEDIUM,
                date_of_birth=_date(row.get("date_of_birth", ""), "date_of_birth"),
                under_18_justification=row.get("under_18_justification", ""),
                review_date=_date(row.get("review_date", ""), "review_date"),
                expires_on=_date(row.get("expires_on", ""), "expires_on"), images=payloads, enrol=False,
                warning_markers=[c.strip() for c in row.get("warning_markers", "").split(";") if c.strip()],
                engagement_instructions=row.get("engagement_instructions", ""),
                exceptional_justification=row.get("exceptional_justification", ""),
            )
            return BulkImportRow.objects.create(bulk_import=job, number=number, reference=reference,
                                                status=Status.CREATED, subject=subject)
    except (ValidationError, PermissionDenied) as exc:
        status, detail = Status.REFUSED, _message(exc)
    except Exception as exc:
        logger.exception("bulk import %s row %s failed", job.pk, number)
        status, detail = Status.ERROR, f"unexpected error: {exc}"
    return BulkImportRow.objects.create(bulk_import=job, number=number, reference=reference, status=status,
                                        detail=detail)


def _rows_decide(job: BulkImport, rows: list[BulkImportRow]) -> None:
    """Enrol the images of rows left at CREATED, then record each row's outcome and add the enrolled
    subjects to the watchlist, both in one transaction (so a crash leaves the rows CREATED, to redo)."""

    if not rows:
        return
    images_of: dict[int, list[ReferenceImage]] = {}
    pending = list(ReferenceImage.objects.filter(subject_id__in=[r.subject_id for r in rows if r.subject_id],
                                                 status=ReferenceImage.Status.PENDING).values_list("pk", flat=True))
    if pending:
        services.reference_images_enrol(image_ids=pending)
    for image in ReferenceImage.objects.filter(subject_id__in=[r.subject_id for r in rows if r.subject_id]) \
            .select_related("duplicate_of").order_by("pk"):
        images_of.setdefault(image.subject_id, []).append(image)
    to_add: list[Subject] = []
    for row in rows:
        images = images_of.get(row.subject_id, []) if row.subject_id else []
        enrolled = [i for i in images if i.status == ReferenceImage.Status.ENROLLED]
        duplicates = [i for i in images if i.status == ReferenceImage.Status.DUPLICATE]
        if row.subject_id is None:
            row.status, row.detail = Status.REFUSED, "the subject was deleted before its images were checked"
        elif enrolled:
            row.status, row.detail = Status.ENROLLED, f"{len(enrolled)} image(s) enrolled"
            to_add.append(row.subject)
        elif duplicates:
            dup = duplicates[0]
            row.status = Status.DUPLICATE
            row.detail = (f"looks like {dup.duplicate_of.name} ({dup.duplicate_of.reference}), "
                          f"similarity {dup.duplicate_score:.2f}: confirm or replace the image")
        else:
            row.status, row.detail = Status.REFUSED, "; ".join(r for i in images for r in i.refusal_reasons)
    with transaction.atomic():
        if to_add:
            try:
                services.watchlist_subjects_add(actor=job.created_by, watchlist=job.watchlist, subjects=to_add)
            except ValidationError as exc:
                for row in rows:
                    if row.status == Status.ENROLLED:
                        row.status, row.detail = Status.REFUSED, _message(exc)
        BulkImportRow.objects.bulk_update(rows, ["status", "detail"])


def _count(job: BulkImport) -> None:
    counts = {r["status"]: r["n"] for r in job.rows.order_by().values("status").annotate(n=Count("pk"))}
    job.processed_rows = sum(n for status, n in counts.items() if status != Status.CREATED)
    job.enrolled = counts.get(Status.ENROLLED, 0)
    job.duplicates = counts.get(Status.DUPLICATE, 0)
    job.refused = counts.get(Status.REFUSED, 0) + counts.get(Status.ERROR, 0)
    job.save(update_fields=["processed_rows", "enrolled", "duplicates", "refused"])


@contextlib.contextmanager
def _run_lock(import_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_LOCK_CLASS, import_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_LOCK_CLASS, import_id])


def bulk_import_run(*, import_id: int, progress: Callable[[BulkImport], None] | None = None) -> BulkImport:
    """Run (or, delivered again after a crash, resume) an import. Rows already recorded are not redone."""
    with _run_lock(import_id) as locked:
        job = BulkImport.objects.select_related("watchlist", "created_by").get(pk=import_id)
        if not locked:
            logger.warning("bulk import %s is already being run by another worker", import_id)
            return job
        if job.status not in (BulkImport.Status.QUEUED, BulkImport.Status.RUNNING):
            return job
        with transaction.atomic():
            if job.status == BulkImport.Status.RUNNING:
                audit_record(actor=None, action=AuditAction.BULK_IMPORT_RESUMED, target=job,
                             details={"rows_done": job.rows.exclude(status=Status.CREATED).count()})
            job.status = BulkImport.Status.RUNNING
            job.save(update_fields=["status"])
        try:
            _run(job, progress)
        except Exception as exc:
            with transaction.atomic():
                job.status = BulkImport.Status.FAILED
                job.error = str(exc)
                job.finished_at = timezone.now()
                job.save(update_fields=["status", "error", "finished_at"])
                audit_record(actor=None, action=AuditAction.BULK_IMPORT_FAILED, target=job, details={"error": str(exc)})
            raise
        with transaction.atomic():
            _count(job)
            job.status = BulkImport.Status.FINISHED
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at"])
            audit_record(actor=None, action=AuditAction.BULK_IMPORT_FINISHED, target=job, details={
                "rows": job.total_rows, "enrolled": job.enrolled, "refused": job.refused,
                "duplicates": job.duplicates})
            zip_name, csv_name = job.zip_file, job.csv_file
            transaction.on_commit(lambda: (protected_delete(zip_name), protected_delete(csv_name)))
    return job


def _run(job: BulkImport, progress: Callable[[BulkImport], None] | None) -> None:
    _rows_decide(job, list(job.rows.filter(status=Status.CREATED).select_related("subject")))
    done = set(job.rows.values_list("number", flat=True))
    _count(job)
    if done and progress:
        progress(job)
    with zipfile.ZipFile(protected_path(job.zip_file)) as archive, protected_open(job.csv_file) as source:
        chunk: list[BulkImportRow] = []
        rows = ((number, row) for number, row in _csv_rows(source) if number not in done)
        for index, (number, row) in enumerate(rows, start=1):
            recorded = _row_create(job, archive, number, row)
            if recorded.status == Status.CREATED:
                chunk.append(recorded)
            if index % CHUNK_ROWS == 0:
                _rows_decide(job, chunk)
                chunk = []
                _count(job)
                if progress:
                    progress(job)
        _rows_decide(job, chunk)
        _count(job)
        if progress:
            progress(job)
