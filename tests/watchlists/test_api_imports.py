"""API: bulk import (CSV + zip) into a watchlist, with progress and the per-row report."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from tests.factories import import_csv, import_zip
from tests.samples import group_jpeg, no_face_jpeg, person_jpeg
from tests.uploads import asgi_post, multipart, padded_zip, peak_bytes, wsgi_post
from watchlists.bulk_import import bulk_import_run
from watchlists.models import BulkImport
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db
HEADER = ["reference", "name", "category", "reason", "legal_basis", "image"]


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Bulk", purpose="Robbery series")


def post_import(client, watchlist, csv_data: bytes, zip_data: bytes):
    return client.post(f"/api/watchlists/{watchlist.pk}/imports", {
        "csv": SimpleUploadedFile("subjects.csv", csv_data, content_type="text/csv"),
        "images": SimpleUploadedFile("images.zip", zip_data, content_type="application/zip"),
    }, format="multipart")


def imported_files() -> set[Path]:
    root = Path(settings.PROTECTED_MEDIA_ROOT) / "imports"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_an_import_is_accepted_then_reports_each_row(api_as, detective, watchlist,
                                                     django_capture_on_commit_callbacks):
    rows = [["R1", "Name R1", "suspected_of_offence", "Robbery", "PACE s.24", "p0.jpg"],
            ["R2", "Name R2", "suspected_of_offence", "Robbery", "PACE s.24", "noface.jpg"],
            ["R3", "Name R3", "of_interest", "Robbery", "PACE s.24", "p1.jpg"]]
    files = {"p0.jpg": person_jpeg(0), "noface.jpg": no_face_jpeg(), "p1.jpg": person_jpeg(1)}
    client = api_as(detective)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = post_import(client, watchlist, import_csv(rows, HEADER), import_zip(files))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["total_rows"] == 3 and body["processed_rows"] == 0
    assert response["Location"] == f"/api/imports/{body['id']}" and body["url"].endswith(response["Location"])
    assert len(queued) == 1  # the import task, sent once the upload has committed

    bulk_import_run(import_id=body["id"])  # what the queued task does
    report = client.get(response["Location"]).json()
    assert report["status"] == "finished" and report["processed_rows"] == 3
    assert (report["enrolled"], report["refused"], report["duplicates"]) == (1, 2, 0)
    by_ref = {row["reference"]: row for row in report["report"]}
    assert by_ref["R1"]["status"] == "enrolled" and by_ref["R1"]["subject_id"] is not None
    assert (by_ref["R2"]["row"], by_ref["R2"]["status"], by_ref["R2"]["detail"]) == (
        3, "refused", "no face found in the image")
    assert "inclusion category must be one of" in by_ref["R3"]["detail"]
    assert list(watchlist.entries.values_list("subject__reference", flat=True)) == ["R1"]


def test_a_csv_without_the_required_columns_is_refused_and_nothing_is_stored(api_as, detective, watchlist):
    before = imported_files()
    response = post_import(api_as(detective), watchlist, b"reference,name\nR1,A\n", import_zip({}))
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("the CSV lacks the column(s) category, reason, legal_basis, image")
    assert not BulkImport.objects.exists() and imported_files() == before


def test_the_images_must_be_a_zip(api_as, detective, watchlist):
    rows = [["R1", "Name", "suspected_of_offence", "r", "b", "p0.jpg"]]
    response = post_import(api_as(detective), watchlist, import_csv(rows, HEADER), b"not a zip")
    assert response.json() == {"errors": ["the images file is not a zip archive"]}
    assert not BulkImport.objects.exists()


def test_both_files_are_needed(api_as, detective, watchlist):
    response = api_as(detective).post(f"/api/watchlists/{watchlist.pk}/imports", {}, format="multipart")
    assert response.status_code == 400 and set(response.json()) == {"csv", "images"}


@pytest.mark.parametrize("role", ["commander", "officer", "oversight"])
def test_only_detectives_import(request, api_as, watchlist, role):
    rows = [["R1", "Name", "suspected_of_offence", "r", "b", "p0.jpg"]]
    response = post_import(api_as(request.getfixturevalue(role)), watchlist, import_csv(rows, HEADER),
                           import_zip({"p0.jpg": b"x"}))
    assert response.status_code == 403
    assert not BulkImport.objects.exists() and not AuditEvent.objects.filter(action="bulk_import.started").exists()


def test_import_progress_is_visible_to_viewers_only(api_as, detective, oversight, officer, watchlist):
    rows = [["R1", "Name", "suspected_of_offence", "r", "b", "p0.jpg"]]
    job_id = post_import(api_as(detective), watchlist, import_csv(rows, HEADER), import_zip({"p0.jpg": b"x"})).json()["id"]
    assert api_as(oversight).get(f"/api/imports/{job_id}").json()["status"] == "queued"
    assert api_as(officer).get(f"/api/imports/{job_id}").status_code == 403
    assert api_as(oversight).get("/api/imports/999999").status_code == 404


def body(csv_data: bytes, zip_data: bytes) -> bytes:
    return multipart({"csv": ("subjects.csv", csv_data), "images": ("images.zip", zip_data)})


@pytest.fixture
def small_limits(settings):
    settings.BULK_IMPORT_MAX_BYTES = 1024 * 1024
    settings.BULK_IMPORT_CSV_MAX_BYTES = 64 * 1024


ROWS = [["R1", "Name", "suspected_of_offence", "r", "b", "p0.jpg"]]


def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(api_as, detective, watchlist, small_limits):
    data = body(import_csv(ROWS, HEADER), padded_zip(8 * 1024 * 1024))
    response, peak = peak_bytes(wsgi_post(api_as(detective), f"/api/watchlists/{watchlist.pk}/imports", data))
    assert response.status_code == 413
    assert json.loads(response.content) == {"detail": "the upload is larger than 1 MB, the limit for this form"}
    assert peak < 1024 * 1024, f"{peak / 1e6:.1f} MB allocated for a refused 8 MB upload"
    assert not BulkImport.objects.exists()


def test_a_body_longer_than_its_declared_length_stops_at_the_limit(api_as, detective, watchlist, small_limits):
    data = body(import_csv(ROWS, HEADER), padded_zip(8 * 1024 * 1024))
    response, peak = peak_bytes(asgi_post(api_as(detective), f"/api/watchlists/{watchlist.pk}/imports", data,
                                          content_length=1000))
    assert response.status_code == 413
    assert peak < 1024 * 1024, f"{peak / 1e6:.1f} MB allocated for a refused 8 MB upload"
    assert not BulkImport.objects.exists()


def test_an_accepted_upload_is_streamed_to_disk(api_as, detective, watchlist):
    data = body(import_csv(ROWS, HEADER), padded_zip(6 * 1024 * 1024))
    response, peak = peak_bytes(wsgi_post(api_as(detective), f"/api/watchlists/{watchlist.pk}/imports", data))
    assert response.status_code == 202 and BulkImport.objects.get().total_rows == 1
    assert peak < 1024 * 1024, f"{peak / 1e6:.1f} MB allocated for a 6 MB upload"


def test_a_csv_error_is_a_400_naming_the_row(api_as, detective, watchlist):
    rows = [*ROWS, ["R2", "Name", "suspected_of_offence", "x" * 200_000, "b", "p1.jpg"]]
    response = post_import(api_as(detective), watchlist, import_csv(rows, HEADER), import_zip({}))
    assert response.status_code == 400
    assert response.json() == {"errors": ["row 3: a field is longer than 10,000 characters"]}
    assert not BulkImport.objects.exists()


def test_the_api_enrols_a_group_photos_largest_face_on_request_and_refuses_the_example_row(api_as, detective,
                                                                                            watchlist):
    header = [*HEADER, "use_largest_face"]
    rows = [["EXAMPLE-1", "Example Person", "suspected_of_offence", "Robbery", "PACE s.24", "p0.jpg", "no"],
            ["R1", "Name R1", "suspected_of_offence", "Robbery", "PACE s.24", "group.jpg", "yes"]]
    client = api_as(detective)
    response = post_import(client, watchlist, import_csv(rows, header),
                           import_zip({"p0.jpg": person_jpeg(0), "group.jpg": group_jpeg("t1")}))
    assert response.status_code == 202, response.content
    bulk_import_run(import_id=response.json()["id"])
    by_ref = {row["reference"]: row for row in client.get(response["Location"]).json()["report"]}
    assert by_ref["EXAMPLE-1"]["status"] == "refused" and by_ref["EXAMPLE-1"]["subject_id"] is None
    assert by_ref["EXAMPLE-1"]["detail"].startswith("this is the template's example row")
    assert by_ref["R1"]["status"] == "enrolled"
    image = client.get(f"/api/subjects/{by_ref['R1']['subject_id']}/images").json()["results"][0]
    assert image["use_largest_face"] and image["face_count"] == 6 and image["face_box"] is not None
