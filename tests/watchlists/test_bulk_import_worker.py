"""The production path of a bulk import: a real Celery worker, killed mid-import, and the task delivered
again (acks_late + reject_on_worker_lost): the import resumes and reports every row once."""

import os
import signal
import time
from io import BytesIO

import pytest

from audit.models import AuditEvent
from config.celery import app
from tests.factories import import_csv, import_zip
from tests.factories import import_row as row
from tests.samples import person_jpeg
from watchlists.bulk_import import bulk_import_start
from watchlists.models import BulkImport, BulkImportRow, Subject
from watchlists.services import watchlist_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 3000
ENROLLED_AT = {0: 0, 1500: 1, 2999: 2}  # row index -> sample person: one early, one in the middle, the last


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s")


def worker_pid(hostname: str, import_id: int) -> int:
    for task in (app.control.inspect([hostname], timeout=1.0).active() or {}).get(hostname, []):
        if task["name"].endswith("bulk_import_run_task") and import_id in task["args"]:
            return task["worker_pid"]
    return 0


def test_a_worker_killed_mid_import_resumes_it(celery_worker_process, detective):
    watchlist = watchlist_create(actor=detective, name="Op Crash", purpose="Robbery series")
    rows = [row(f"K{i:04d}", f"p{ENROLLED_AT[i]}.jpg" if i in ENROLLED_AT else "missing.jpg") for i in range(ROWS)]
    files = {f"p{person}.jpg": person_jpeg(person) for person in ENROLLED_AT.values()}
    job = bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(import_csv(rows)),
                            zip_file=BytesIO(import_zip(files)))  # queued once this commits

    pid = wait_until(lambda: worker_pid(celery_worker_process, job.pk), timeout=60, what="the task to start")
    wait_until(lambda: BulkImportRow.objects.filter(bulk_import=job).count() >= 200, timeout=60,
               what="200 rows recorded")
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    done_at_kill = BulkImportRow.objects.filter(bulk_import=job).count()
    assert done_at_kill < ROWS, "the import finished before the worker could be killed"

    wait_until(lambda: BulkImport.objects.get(pk=job.pk).status == BulkImport.Status.FINISHED, timeout=180,
               what="the redelivered import to finish", every=0.5)
    job.refresh_from_db()
    report = job.report
    assert [r["row"] for r in report] == list(range(2, ROWS + 2))
    assert [r["reference"] for r in report if r["status"] == "enrolled"] == ["K0000", "K1500", "K2999"]
    assert all(r["detail"] == "missing.jpg is not in the zip file" for r in report if r["status"] == "refused")
    assert (job.processed_rows, job.enrolled, job.refused, job.duplicates) == (ROWS, 3, ROWS - 3, 0)
    assert Subject.objects.filter(reference__startswith="K").count() == 3
    assert sorted(watchlist.entries.values_list("subject__reference", flat=True)) == ["K0000", "K1500", "K2999"]
    resumed = AuditEvent.objects.filter(action="bulk_import.resumed", target_id=str(job.pk)).get()
    assert 0 < resumed.details["rows_done"] <= done_at_kill + 1
