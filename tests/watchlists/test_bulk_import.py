import csv
from io import BytesIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from config.errors import RuleViolation
from tests.factories import import_csv, import_row as row, import_zip
from tests.samples import YAO_MING, group_jpeg, no_face_jpeg, person_jpeg, yao_ming_second_photo_jpeg
from watchlists.bulk_import import bulk_import_run, bulk_import_start
from watchlists.models import BulkImport, Subject
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
