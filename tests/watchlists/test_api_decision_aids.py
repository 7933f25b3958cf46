"""The decision aids and category rules through the API and the bulk import CSV."""

from io import BytesIO

import pytest
from django.utils import timezone

from tests.factories import enrolled_subject, import_csv, import_zip
from tests.samples import person_jpeg
from watchlists.bulk_import import bulk_import_run, bulk_import_start
from watchlists.models import ReferenceImage, Subject
from watchlists.services import watchlist_create

pytestmark = pytest.mark.django_db

MISSING = {"reference": "MIS-26/0001", "name": "Robin Example", "category": "missing_at_risk",
           "reason": "Missing from care since 28 Nov; at risk of exploitation", "legal_basis": "Children Act 1989 s.46",
           "warning_markers": ["self_harm", "mental_health"],
           "engagement_instructions": "Safeguarding: MISPER coordinator 01632 960123; keep with an officer"}


def test_markers_and_instructions_are_saved_and_returned(api_as, detective):
    response = api_as(detective).post("/api/subjects/", MISSING, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["warning_markers"] == ["self_harm", "mental_health"]
    assert body["engagement_instructions"] == MISSING["engagement_instructions"]
    assert body["expires_on"] == str(timezone.localdate() + timezone.timedelta(days=30))
    assert body["image_taken_on"] is None and body["image_too_old"] is False
    assert body["category_rule_problems"] == []


def test_an_entry_written_before_a_rule_says_what_it_breaks(api_as, detective):
    subject = api_as(detective).post("/api/subjects/", MISSING, format="json").json()
    Subject.objects.filter(pk=subject["id"]).update(engagement_instructions="")
    body = api_as(detective).get(f"/api/subjects/{subject['id']}/").json()
    assert body["category_rule_problems"] == ["Missing and at increased risk: the engagement instructions must give "
                                              "a safeguarding contact with a telephone number"]


def test_an_unknown_marker_is_a_400_naming_it(api_as, detective):
    response = api_as(detective).post("/api/subjects/", MISSING | {"warning_markers": ["self_harm", "dangerous"]},
                                      format="json")
    assert response.status_code == 400
    assert response.json() == {"warning_markers": {"1": ['"dangerous" is not a valid choice.']}}
    assert not Subject.objects.exists()


def test_a_category_rule_is_a_400_in_the_services_words(api_as, detective):
    response = api_as(detective).post("/api/subjects/", MISSING | {"engagement_instructions": "find them"},
                                      format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": ["Missing and at increased risk: the engagement instructions must give a "
                                          "safeguarding contact with a telephone number"]}


def test_patch_replaces_the_markers(api_as, detective):
    subject = api_as(detective).post("/api/subjects/", MISSING, format="json").json()
    response = api_as(detective).patch(f"/api/subjects/{subject['id']}/", {
        "expected_version": 1, "warning_markers": ["violent"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["warning_markers"] == ["violent"] and response.json()["version"] == 2


def test_the_photo_date_and_its_age_warning(api_as, detective, settings):
    settings.REFERENCE_IMAGE_WARN_AGE_YEARS = 3
    subject = enrolled_subject(detective, 0)
    taken = timezone.localdate().replace(year=timezone.localdate().year - 5)
    ReferenceImage.objects.filter(subject=subject).update(capture_date=taken)
    body = api_as(detective).get(f"/api/subjects/{subject.pk}/").json()
    assert body["image_taken_on"] == str(taken) and body["image_too_old"] is True
    listed = api_as(detective).get("/api/subjects/").json()["results"][0]
    assert listed["image_taken_on"] == str(taken) and listed["image_too_old"] is True


HEADER = ["reference", "name", "category", "reason", "legal_basis", "image", "warning_markers",
          "engagement_instructions", "exceptional_justification"]


def test_bulk_import_reads_the_decision_aid_columns(detective):
    watchlist = watchlist_create(actor=detective, name="Op Bulk", purpose="p")
    rows = [
        ["B1", "Name B1", "wanted_by_courts", "Failed to appear", "Warrant W-1", "p0.jpg", "violent; weapons",
         "Arrest on warrant W-1 (Crown Court)", ""],
        ["B2", "Name B2", "suspected_of_offence", "Robbery", "PACE s.24", "p1.jpg", "violent;rude", "", ""],
        ["B3", "Name B3", "wanted_by_courts", "Failed to appear", "Warrant W-3", "p2.jpg", "", "", ""],
        ["B4", "Name B4", "victim_witness_associate", "Witness", "Common law", "p3.jpg", "", "",
         "Sole witness to a murder; at risk of harm"],
    ]
    files = {f"p{i}.jpg": person_jpeg(i) for i in range(4)}
    job = bulk_import_start(actor=detective, watchlist=watchlist, csv_file=BytesIO(import_csv(rows, header=HEADER)),
                            zip_file=BytesIO(import_zip(files)), enqueue=False)
    report = {entry["reference"]: entry for entry in bulk_import_run(import_id=job.pk).report}
    assert report["B1"]["status"] == "enrolled"
    b1 = Subject.objects.get(reference="B1")
    assert b1.warning_markers == ["violent", "weapons"] and b1.engagement_instructions.startswith("Arrest")
    assert report["B2"]["status"] == "refused" and "unknown warning marker(s) rude" in report["B2"]["detail"]
    assert report["B3"]["status"] == "refused" and "must name the warrant" in report["B3"]["detail"]
    assert report["B4"]["status"] == "enrolled"
    assert Subject.objects.get(reference="B4").exceptional_justification.startswith("Sole witness")
