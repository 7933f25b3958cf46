"""The bulk import CSV template: its one example row is there to copy, and an import refuses it."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import import_zip
from tests.samples import person_jpeg
from watchlists.bulk_import import EXAMPLE_REFERENCE, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, bulk_import_run
from watchlists.models import BulkImport, Subject
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db


def template(client) -> list[dict[str, str]]:
    response = client.get(reverse("watchlists:import_template"))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def upload_and_run(client, watchlist, csv_text: str, files: dict[str, bytes]) -> BulkImport:
    response = client.post(reverse("watchlists:import", args=[watchlist.pk]), {
        "csv_file": SimpleUploadedFile("subjects.csv", csv_text.encode(), content_type="text/csv"),
        "zip_file": SimpleUploadedFile("images.zip", import_zip(files), content_type="application/zip")})
    assert response.status_code == 302, response.content.decode()
    return bulk_import_run(import_id=BulkImport.objects.get().pk)


def test_the_template_has_one_example_row_filling_every_column_a_detective_needs(client_as, detective):
    rows = template(client_as(detective))
    assert len(rows) == 1
    example = rows[0]
    assert list(example) == [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    assert example["reference"] == EXAMPLE_REFERENCE == "EXAMPLE-1"
    assert all(example[column] for column in REQUIRED_COLUMNS)
    assert example["use_largest_face"] == "no" and ";" in example["image"]


def test_importing_the_template_unchanged_creates_no_subject(client_as, detective):
    client = client_as(detective)
    watchlist = watchlist_create(actor=detective, name="Op Copy", purpose="Robbery series")
    response = client.get(reverse("watchlists:import_template"))
    example = template(client)[0]
    # Even with its photos in the zip, real faces, the example row is not enrolled.
    files = {name: person_jpeg(i) for i, name in enumerate(example["image"].split(";"))}
    job = upload_and_run(client, watchlist, response.content.decode(), files)

    assert job.report == [{"row": 2, "reference": "EXAMPLE-1", "status": "refused", "subject_id": None,
                           "detail": "this is the template's example row: replace it with a real subject, or delete it"}]
    assert not Subject.objects.exists() and not watchlist.entries.exists()
    page = client.get(reverse("watchlists:import_status", args=[watchlist.pk, job.pk])).content.decode()
    assert "this is the template&#x27;s example row" in page


def test_rows_added_below_the_example_are_imported(client_as, detective):
    client = client_as(detective)
    watchlist = watchlist_create(actor=detective, name="Op Copy", purpose="Robbery series")
    example = template(client)[0]
    mine = example | {"reference": "PNC-26/0001", "name": "Real Person", "image": "mine.jpg",
                      "date_of_birth": "", "capture_date": ""}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(example))
    writer.writeheader()
    writer.writerows([example, mine])
    job = upload_and_run(client, watchlist, out.getvalue(), {"mine.jpg": person_jpeg(0)})

    assert [(r["reference"], r["status"]) for r in job.report] == [("EXAMPLE-1", "refused"), ("PNC-26/0001", "enrolled")]
    assert list(Subject.objects.values_list("reference", flat=True)) == ["PNC-26/0001"]


def test_the_import_page_says_the_example_row_is_refused(client_as, detective):
    watchlist = watchlist_create(actor=detective, name="Op Copy", purpose="Robbery series")
    page = client_as(detective).get(reverse("watchlists:import", args=[watchlist.pk])).content.decode()
    assert "<code>EXAMPLE-1</code>" in page and "An import refuses the example row itself." in page
    assert "<code>use_largest_face</code>" in page
