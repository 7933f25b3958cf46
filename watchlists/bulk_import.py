"""Bulk import: a CSV (one row per subject) plus a zip of images, for watchlists of thousands.

A bad row never sinks the batch: each row is its own transaction and ends in the per-row report as
enrolled, refused (with the reason) or duplicate (of which subject). Images are enrolled in batches
through the engine, so 2,500 rows are a few engine calls per hundred, not 2,500 form posts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import require_capability
from audit.services import audit_record
from config.errors import RuleViolation
from watchlists.models import BulkImport, Priority, ReferenceImage, Subject, Watchlist
from watchlists.storage import protected_delete, protected_path, protected_read, protected_save

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("reference", "name", "category", "reason", "legal_basis", "image")
OPTIONAL_COLUMNS = ("date_of_birth", "priority", "under_18_justification", "image_source", "capture_date",
                    "review_date", "expires_on")
MAX_ROWS = 10_000
CHUNK_ROWS = 64


@dataclass
class RowOutcome:
    row: int
    reference: str
    status: str  # enrolled | refused | duplicate | error
    detail: str = ""
    subject_id: int | None = None

    def as_dict(self) -> dict:
        return {"row": self.row, "reference": self.reference, "status": self.status, "detail": self.detail,
                "subject_id": self.subject_id}


def _parse_csv(data: bytes) -> list[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation("the CSV file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise RuleViolation(f"the CSV lacks the column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    if not rows:
        raise RuleViolation("the CSV has no rows")
    if len(rows) > MAX_ROWS:
        raise RuleViolation(f"the CSV has {len(rows)} rows; at most {MAX_ROWS} per import")
    return rows


def bulk_import_start(*, actor, watchlist: Watchlist, csv_data: bytes, zip_data: bytes, enqueue: bool = True,
                      request=None) -> BulkImport:
    require_capability(user=actor, capability="manage_watchlist")
    rows = _parse_csv(csv_data)
    if len(zip_data) > settings.BULK_IMPORT_MAX_BYTES:
        raise RuleViolation(f"the images file is {len(zip_data) / 1e6:.0f} MB; the limit is "
                            f"{settings.BULK_IMPORT_MAX_BYTES / 1e6:.0f} MB per import (split the list)")
    if not zipfile.is_zipfile(io.BytesIO(zip_data)):
        raise RuleViolation("the images file is not a zip archive")
    zip_name, zip_sha = protected_save(data=zip_data, folder="imports", suffix=".zip")
    csv_name, _ = protected_save(data=csv_data, folder="imports", suffix=".csv")
    try:
        with transaction.atomic():
            job = BulkImport.objects.create(watchlist=watchlist, created_by=actor, total_rows=len(rows),
                                            csv_file=csv_name, zip_file=zip_name)
            audit_record(actor=actor, action="bulk_import.started", target=job, request=request,
                         details={"watchlist": watchlist.pk, "rows": len(rows), "zip_sha256": zip_sha})
            if enqueue:
                from watchlists.tasks import bulk_import_run_task

                transaction.on_commit(lambda: bulk_import_run_task.delay(job.pk))
    except BaseException:
        protected_delete(zip_name)
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


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _create_row(job: BulkImport, archive: zipfile.ZipFile, number: int, row: dict[str, str]) -> tuple[Subject, list[ReferenceImage]]:
    from watchlists.services import reference_image_add, subject_create

    names = [n.strip() for n in row["image"].split(";") if n.strip()]
    if not names:
        raise RuleViolation("no image file named in the 'image' column")
    payloads = []
    for name in names:
        try:
            info = archive.getinfo(name)
        except KeyError:
            raise RuleViolation(f"{name} is not in the zip file") from None
        if info.file_size > settings.REFERENCE_IMAGE_MAX_BYTES:
            raise RuleViolation(f"{name} is {info.file_size / 1e6:.1f} MB uncompressed; the limit is "
                                f"{settings.REFERENCE_IMAGE_MAX_BYTES / 1e6:.0f} MB")
        payloads.append((name, archive.read(info)))
    with transaction.atomic():
        subject = subject_create(
            actor=job.created_by, reference=row["reference"], name=row["name"], category=row["category"],
            reason=row["reason"], legal_basis=row["legal_basis"], priority=row.get("priority") or Priority.MEDIUM,
            date_of_birth=_date(row.get("date_of_birth", ""), "date_of_birth"),
            under_18_justification=row.get("under_18_justification", ""),
            review_date=_date(row.get("review_date", ""), "review_date"),
            expires_on=_date(row.get("expires_on", ""), "expires_on"),
        )
        images = [reference_image_add(actor=job.created_by, subject=subject, data=data, original_name=name,
                                      image_source=row.get("image_source") or f"bulk import {job.pk}: {name}",
                                      capture_date=_date(row.get("capture_date", ""), "capture_date"), enrol=False)
                  for name, data in payloads]
    return subject, images


def bulk_import_run(*, import_id: int, progress: Callable[[BulkImport], None] | None = None) -> BulkImport:
    from watchlists.services import reference_images_enrol, watchlist_subjects_add

    job = BulkImport.objects.select_related("watchlist", "created_by").get(pk=import_id)
    if job.status not in (BulkImport.Status.QUEUED, BulkImport.Status.RUNNING):
        return job
    rows = _parse_csv(protected_read(job.csv_file))
    job.status = BulkImport.Status.RUNNING
    job.report = []
    job.processed_rows = job.enrolled = job.refused = job.duplicates = 0
    job.save()
    try:
        with zipfile.ZipFile(protected_path(job.zip_file)) as archive:
            for start in range(0, len(rows), CHUNK_ROWS):
                outcomes: list[RowOutcome] = []
                created: list[tuple[RowOutcome, Subject, list[ReferenceImage]]] = []
                for offset, row in enumerate(rows[start:start + CHUNK_ROWS]):
                    number = start + offset + 2  # header is line 1
                    outcome = RowOutcome(number, row.get("reference", ""), "refused")
                    outcomes.append(outcome)
                    try:
                        subject, images = _create_row(job, archive, number, row)
                        outcome.subject_id = subject.pk
                        created.append((outcome, subject, images))
                    except (ValidationError, PermissionDenied) as exc:
                        outcome.detail = _message(exc)
                    except Exception as exc:  # noqa: BLE001 - one broken row must not sink the batch
                        logger.exception("bulk import %s row %s failed", job.pk, number)
                        outcome.status, outcome.detail = "error", f"unexpected error: {exc}"
                image_ids = [image.pk for _, _, images in created for image in images]
                if image_ids:
                    reference_images_enrol(image_ids=image_ids)
                to_add = []
                for outcome, subject, images in created:
                    statuses = {i.pk: i for i in ReferenceImage.objects.filter(pk__in=[i.pk for i in images])
                                .select_related("duplicate_of")}
                    enrolled = [i for i in statuses.values() if i.status == ReferenceImage.Status.ENROLLED]
                    duplicates = [i for i in statuses.values() if i.status == ReferenceImage.Status.DUPLICATE]
                    if enrolled:
                        outcome.status, outcome.detail = "enrolled", f"{len(enrolled)} image(s) enrolled"
                        to_add.append(subject)
                    elif duplicates:
                        dup = duplicates[0]
                        outcome.status = "duplicate"
                        outcome.detail = (f"looks like {dup.duplicate_of.name} ({dup.duplicate_of.reference}), "
                                          f"similarity {dup.duplicate_score:.2f}: confirm or replace the image")
                    else:
                        outcome.detail = "; ".join(r for i in statuses.values() for r in i.refusal_reasons)
                if to_add:
                    try:
                        watchlist_subjects_add(actor=job.created_by, watchlist=job.watchlist, subjects=to_add)
                    except ValidationError as exc:
                        for outcome in outcomes:
                            if outcome.status == "enrolled":
                                outcome.status, outcome.detail = "refused", _message(exc)
                job.report.extend(o.as_dict() for o in outcomes)
                job.processed_rows += len(outcomes)
                job.enrolled += sum(o.status == "enrolled" for o in outcomes)
                job.duplicates += sum(o.status == "duplicate" for o in outcomes)
                job.refused += sum(o.status in ("refused", "error") for o in outcomes)
                job.save(update_fields=["report", "processed_rows", "enrolled", "duplicates", "refused"])
                if progress:
                    progress(job)
    except Exception as exc:
        job.status = BulkImport.Status.FAILED
        job.error = str(exc)
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        audit_record(actor=None, action="bulk_import.failed", target=job, details={"error": str(exc)})
        raise
    job.status = BulkImport.Status.FINISHED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    audit_record(actor=None, action="bulk_import.finished", target=job, details={
        "rows": job.total_rows, "enrolled": job.enrolled, "refused": job.refused, "duplicates": job.duplicates})
    protected_delete(job.zip_file)
    protected_delete(job.csv_file)
    return job
