import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from core.downloads import spreadsheet_safe
from watchlists.bulk_import import bulk_import_run, bulk_import_start
from watchlists.models import BulkImport, Watchlist


class Command(AuditedCommand):
    help = "Import subjects into a watchlist from a CSV (one row per subject) and a zip of their images."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--watchlist", type=int, required=True, help="watchlist id")
        parser.add_argument("--csv", type=Path, required=True)
        parser.add_argument("--zip", type=Path, required=True)
        parser.add_argument("--as", dest="username", required=True, help="the detective doing the import (audited)")
        parser.add_argument("--report", type=Path, help="write the per-row report here as CSV")

    def handle(self, *args, watchlist: int, csv: Path, zip: Path, username: str, report: Path | None, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        target = Watchlist.objects.filter(pk=watchlist).first()
        if target is None:
            raise CommandError(f"no watchlist {watchlist}")
        for path in (csv, zip):
            if not path.is_file():
                raise CommandError(f"{path} is not a file")
        try:
            with open(csv, "rb") as csv_file, open(zip, "rb") as zip_file:
                job = bulk_import_start(actor=user, watchlist=target, csv_file=csv_file, zip_file=zip_file,
                                        enqueue=False)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        started = time.monotonic()
        job = bulk_import_run(import_id=job.pk, progress=lambda j: self._bar(j, started))
        sys.stdout.write("\n")
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"import {job.pk}: {job.total_rows} rows in {elapsed:.1f} s ({job.total_rows / max(elapsed, 1e-9):.1f} rows/s): "
            f"{job.enrolled} enrolled, {job.refused} refused, {job.duplicates} duplicates"))
        if report:
            self._write_report(job, report)
            self.stdout.write(f"per-row report: {report}")

    def _bar(self, job: BulkImport, started: float) -> None:
        done, total = job.processed_rows, job.total_rows
        width = 40
        filled = int(width * done / max(total, 1))
        rate = done / max(time.monotonic() - started, 1e-9)
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows  {rate:.1f} rows/s  "
                         f"enrolled {job.enrolled} refused {job.refused} duplicates {job.duplicates}")
        sys.stdout.flush()

    @staticmethod
    def _write_report(job: BulkImport, path: Path) -> None:
        import csv as csv_module

        with open(path, "w", newline="") as handle:
            writer = csv_module.DictWriter(handle, fieldnames=["row", "reference", "status", "detail", "subject_id"])
            writer.writeheader()
            # The reference and detail echo what the uploaded CSV said: inert in a spreadsheet, as in the portal.
            writer.writerows({k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in row.items()}
                             for row in job.report)
