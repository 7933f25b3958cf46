"""Bulk import's use_largest_face column: a group photo's largest face enrolled, as the single-subject form allows."""

from io import BytesIO

import pytest

from tests.factories import import_csv, import_zip
from tests.factories import import_row as row
from tests.samples import group_jpeg
from watchlists.bulk_import import bulk_import_run, bulk_import_start
from watchlists.models import ReferenceImage, Subject
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db

HEADER = ["reference", "name", "category", "reason", "legal_basis", "image", "date_of_birth", "use_largest_face"]


def run(detective, rows) -> dict[str, dict]:
    watchlist = watchlist_create(actor=detective, name="Op Bulk", purpose="Robbery series")
    job = bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(import_csv(rows, header=HEADER)),
                            zip_file=BytesIO(import_zip({"group.jpg": group_jpeg("t1")})), enqueue=False)
    job = bulk_import_run(import_id=job.pk)
    return {entry["reference"]: entry for entry in job.report}


def test_yes_enrols_the_largest_face_and_blank_or_no_refuse_the_group_photo(detective):
    report = run(detective, [[*row("R1", "group.jpg"), "yes"], [*row("R2", "group.jpg"), "No"],
                             [*row("R3", "group.jpg"), ""]])
    assert report["R1"]["status"] == "enrolled", report["R1"]
    image = ReferenceImage.objects.get(subject__reference="R1")
    assert image.use_largest_face and image.face_count == 6
    assert any("the largest was used" in warning for warning in image.warnings)
    assert len(image.quality["bbox"]) == 4
    for reference in ("R2", "R3"):
        assert report[reference]["status"] == "refused"
        assert "6 faces found in the image" in report[reference]["detail"]


def test_a_value_other_than_yes_or_no_is_refused_with_the_column_named(detective):
    report = run(detective, [[*row("R1", "group.jpg"), "maybe"]])
    assert report["R1"]["status"] == "refused"
    assert report["R1"]["detail"] == "use_largest_face 'maybe' must be yes, no or left blank"
    assert not Subject.objects.exists()
