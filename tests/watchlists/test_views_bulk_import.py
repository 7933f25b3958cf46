"""Bulk import pages: upload CSV + zip, a status page polling JSON progress, then the per-row report."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT
from django.urls import reverse

from tests.factories import import_csv, import_zip
from tests.factories import import_row as row
from tests.samples import no_face_jpeg, person_jpeg
from tests.uploads import asgi_post, multipart, padded_zip, peak_bytes, wsgi_post
from watchlists.bulk_import import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, bulk_import_run
from watchlists.models import BulkImport, ReferenceImage
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Bulk", purpose="Robbery series")


def upload(client, watchlist, csv_data: bytes, zip_data: bytes):
    return client.post(reverse("watchlists:import", args=[watchlist.pk]), {
        "csv_file": SimpleUploadedFile("subjects.csv", csv_data, content_type="text/csv"),
        "zip_file": SimpleUploadedFile("images.zip", zip_data, content_type="application/zip")})


def test_the_import_page_is_for_detectives(client_as, detective, commander, oversight, watchlist):
    page = client_as(detective).get(reverse("watchlists:import", args=[watchlist.pk]))
    assert page.status_code == 200
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        assert f"<code>{column}</code>" in page.content.decode()
    for user in (commander, oversight):
        assert client_as(user).get(reverse("watchlists:import", args=[watchlist.pk])).status_code == 403


def test_the_csv_template_lists_every_column(client_as, detective):
    response = client_as(detective).get(reverse("watchlists:import_template"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header == [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]


def test_upload_then_progress_then_report(client_as, detective, watchlist):
    client = client_as(detective)
    response = upload(client, watchlist, import_csv([row("R1", "p0.jpg"), row("R2", "noface.jpg"), row("R3", "gone.jpg")]),
                      import_zip({"p0.jpg": person_jpeg(0), "noface.jpg": no_face_jpeg()}))
    job = BulkImport.objects.get()
    status_page = reverse("watchlists:import_status", args=[watchlist.pk, job.pk])
    assert response.status_code == 302 and response.url == status_page
    assert job.created_by == detective and job.total_rows == 3

    page = client.get(status_page)
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("watchlists:import_status_json", args=[watchlist.pk, job.pk]) in html
    assert 'data-finished="false"' in html and "js/import_status.js" in html and "import-report" not in html

    status_url = reverse("watchlists:import_status_json", args=[watchlist.pk, job.pk])
    state = client.get(status_url).json()
    assert state | {"id": 0} == {"id": 0, "status": "queued", "status_label": "Queued", "finished": False,
                                 "total_rows": 3, "processed_rows": 0, "enrolled": 0, "refused": 0,
                                 "duplicates": 0, "error": "", "percent": 0}

    bulk_import_run(import_id=job.pk)  # what the worker does

    state = client.get(status_url).json()
    assert state["finished"] and state["status"] == "finished" and state["percent"] == 100
    assert (state["processed_rows"], state["enrolled"], state["refused"], state["duplicates"]) == (3, 1, 2, 0)
    page = client.get(status_page)
    html = page.content.decode()
    assert 'data-finished="true"' in html and 'data-testid="import-report"' in html
    assert "no face found in the image" in html and "gone.jpg is not in the zip file" in html
    assert [r["status"] for r in page.context["report"]] == ["enrolled", "refused", "refused"]
    assert list(watchlist.entries.values_list("subject__reference", flat=True)) == ["R1"]


def test_a_csv_without_the_required_columns_is_refused_on_the_form(client_as, detective, watchlist):
    response = upload(client_as(detective), watchlist, b"reference,name\nR1,A\n", import_zip({}))
    assert response.status_code == 400 and "the CSV lacks the column(s)" in response.content.decode()
    assert not BulkImport.objects.exists()


def test_an_import_is_only_reachable_through_its_own_watchlist(client_as, detective, oversight, officer, watchlist):
    upload(client_as(detective), watchlist, import_csv([row("R1", "p0.jpg")]), import_zip({"p0.jpg": b"x"}))
    job = BulkImport.objects.get()
    other = watchlist_create(actor=detective, name="Other", purpose="p")
    client = client_as(oversight)
    assert client.get(reverse("watchlists:import_status_json", args=[other.pk, job.pk])).status_code == 404
    assert client.get(reverse("watchlists:import_status_json", args=[watchlist.pk, job.pk])).status_code == 200
    assert client_as(officer).get(reverse("watchlists:import_status_json", args=[watchlist.pk, job.pk])).status_code == 403


def body(csv_data: bytes, zip_data: bytes) -> bytes:
    return multipart({"csv_file": ("subjects.csv", csv_data), "zip_file": ("images.zip", zip_data)})


@pytest.fixture
def small_limits(settings):
    settings.BULK_IMPORT_MAX_BYTES = 1024 * 1024
    settings.BULK_IMPORT_CSV_MAX_BYTES = 64 * 1024


def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(client_as, detective, watchlist, small_limits):
    client = client_as(detective)
    data = body(import_csv([row("R1", "p0.jpg")]), padded_zip(8 * 1024 * 1024))
    response, peak = peak_bytes(wsgi_post(client, reverse("watchlists:import", args=[watchlist.pk]), data))
    assert response.status_code == 413
    assert "the upload is larger than 1 MB, the limit for this form" in response.content.decode()
    assert peak < 1024 * 1024, f"{peak / 1e6:.1f} MB allocated for a refused 8 MB upload"
    assert not BulkImport.objects.exists()


def test_a_body_longer_than_its_declared_length_stops_at_the_limit(client_as, detective, watchlist, small_limits):
    # Under ASGI (uvicorn) the body is not cut at Content-Length: the upload handler's count is the cap.
    data = body(import_csv([row("R1", "p0.jpg")]), padded_zip(8 * 1024 * 1024))
    response, peak = peak_bytes(asgi_post(client_as(detective), reverse("watchlists:import", args=[watchlist.pk]),
                                          data, content_length=1000))
    assert response.status_code == 413
    assert peak < 1024 * 1024, f"{peak / 1e6:.1f} MB allocated for a refused 8 MB upload"
    assert not BulkImport.objects.exists()


def test_a_body_without_a_length_is_not_read(client_as, detective, watchlist, small_limits):
    data = body(import_csv([row("R1", "p0.jpg")]), padded_zip(1024))
    response = client_as(detective).generic("POST", reverse("watchlists:import", args=[watchlist.pk]), data,
                                            content_type=MULTIPART_CONTENT, CONTENT_LENGTH="")
    assert response.status_code == 400 and set(response.context["form"].errors) == {"csv_file", "zip_file"}
    assert not BulkImport.objects.exists()


def test_an_accepted_upload_is_streamed_to_disk(client_as, detective, watchlist):
    client = client_as(detective)
    data = body(import_csv([row("R1", "p0.jpg")]), padded_zip(6 * 1024 * 1024))
    response, peak = peak_bytes(wsgi_post(client, reverse("watchlists:import", args=[watchlist.pk]), data))
    assert response.status_code == 302 and BulkImport.objects.get().total_rows == 1
    assert peak < 1024 * 1024, f"{peak / 1e6:.1f} MB allocated for a 6 MB upload"


def test_a_csv_error_is_a_400_naming_the_row(client_as, detective, watchlist):
    csv_data = import_csv([row("R1", "p0.jpg"), ["R2", "Name", "suspected_of_offence", "x" * 200_000, "PACE", "p1.jpg"]])
    response = upload(client_as(detective), watchlist, csv_data, import_zip({"p0.jpg": person_jpeg(0)}))
    assert response.status_code == 400
    assert "row 3: a field is longer than 10,000 characters" in response.content.decode()
    assert not BulkImport.objects.exists()


def test_the_upload_still_needs_its_csrf_token(detective, watchlist):
    # The view parses the body itself (through the capped handler) and then runs the CSRF check.
    from django.test import Client

    from tests.conftest import mfa_verify_session

    client = Client(enforce_csrf_checks=True)
    client.force_login(detective)
    mfa_verify_session(client.session, detective)
    response = upload(client, watchlist, import_csv([row("R1", "p0.jpg")]), import_zip({"p0.jpg": person_jpeg(0)}))
    assert response.status_code == 403 and not BulkImport.objects.exists()

    page = client.get(reverse("watchlists:import", args=[watchlist.pk]))
    token = page.context["csrf_token"]
    response = client.post(reverse("watchlists:import", args=[watchlist.pk]), {
        "csrfmiddlewaretoken": str(token),
        "csv_file": SimpleUploadedFile("subjects.csv", import_csv([row("R1", "p0.jpg")])),
        "zip_file": SimpleUploadedFile("images.zip", import_zip({"p0.jpg": person_jpeg(0)}))})
    assert response.status_code == 302 and BulkImport.objects.count() == 1


def test_the_report_gives_each_rows_image_quality_in_words(client_as, detective, watchlist):
    client = client_as(detective)
    upload(client, watchlist, import_csv([row("R1", "p0.jpg"), row("R2", "gone.jpg")]),
           import_zip({"p0.jpg": person_jpeg(0)}))
    job = bulk_import_run(import_id=BulkImport.objects.get().pk)
    html = client.get(reverse("watchlists:import_status", args=[watchlist.pk, job.pk])).content.decode()
    eyes = ReferenceImage.objects.get(subject__reference="R1").quality["inter_ocular_px"]
    assert 'data-testid="row-quality-2"' in html and f"eyes {eyes:.0f} px apart (minimum 30)" in html
    assert "Facing the camera" in html and "inter_ocular_px" not in html
    assert 'data-testid="row-quality-3"' not in html  # no image, no words
