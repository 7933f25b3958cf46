"""Subject access pages: the search page, the printable report and the CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import make_subject
from watchlists.models import ReferenceImage, Subject
from watchlists.services import subject_purge

pytestmark = pytest.mark.django_db

SEARCH = reverse("oversight:subject_access")


def report_urls(subject_id):
    return [reverse("oversight:subject_access_report", args=[subject_id]),
            reverse("oversight:subject_access_report_csv", args=[subject_id])]


def test_oversight_finds_a_person_across_deployments_and_alerts(client_as, oversight, live_deployment, raise_alert):
    raise_alert(0, score=0.77)
    subject = Subject.objects.get(reference="PNC-0000")

    response = client_as(oversight).get(SEARCH, {"q": "PNC-0000"})

    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    page = response.content.decode()
    assert f'data-testid="person-{subject.pk}"' in page and "PNC-0001" not in page
    assert live_deployment.name in page and live_deployment.location in page
    assert "0.77" in page and "Awaiting decision" in page
    for url in report_urls(subject.pk):
        assert url in page
    assert "<img" not in page
    assert AuditEvent.objects.get(action="subject_access.searched").details["people"] == 1


def test_the_empty_page_searches_nothing(client_as, oversight):
    response = client_as(oversight).get(SEARCH)
    assert response.status_code == 200 and 'name="q"' in response.content.decode()
    assert not AuditEvent.objects.filter(action="subject_access.searched").exists()


@pytest.mark.parametrize("query", ["", "a", " z "])
def test_a_short_query_is_a_clear_400(client_as, oversight, query):
    response = client_as(oversight).get(SEARCH, {"q": query})
    assert response.status_code == 400
    assert "at least 2 characters" in response.content.decode()
    assert not AuditEvent.objects.filter(action="subject_access.searched").exists()


def test_nothing_found_says_so(client_as, oversight):
    response = client_as(oversight).get(SEARCH, {"q": "Nobody Known"})
    assert response.status_code == 200 and 'data-testid="no-results"' in response.content.decode()


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "administrator", "outsider"])
def test_other_roles_are_refused(request, client_as, role, detective):
    subject = make_subject(detective)
    client = client_as(request.getfixturevalue(role))
    for url in [SEARCH, *report_urls(subject.pk)]:
        assert client.get(url, {"q": subject.reference}).status_code == 403, url
    assert not AuditEvent.objects.filter(action__startswith="subject_access.").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, detective):
    subject = make_subject(detective)
    for url in [SEARCH, *report_urls(subject.pk)]:
        response = client.get(url, {"q": "Alex"})
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), url


def test_purged_subject_report_keeps_the_history_without_biometric_data(client_as, oversight, live_deployment,
                                                                       raise_alert):
    alert = raise_alert(1)
    subject = Subject.objects.get(reference="PNC-0001")
    image_files = list(ReferenceImage.objects.filter(subject=subject).values_list("file_name", flat=True))
    subject_purge(actor=None, subject=subject, why="retention expired")

    search = client_as(oversight).get(SEARCH, {"q": "subject 1"}).content.decode()
    assert "Purged (biometric data deleted)" in search and live_deployment.name in search

    response = client_as(oversight).get(reverse("oversight:subject_access_report", args=[subject.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    page = response.content.decode()
    assert "Subject access report" in page and "PNC-0001" in page
    assert live_deployment.name in page and "images and embeddings deleted" in page
    assert "<img" not in page and alert.probe_file not in page
    assert all(name not in page for name in image_files)
    assert "js/print_button.js" in page and "css/print_report.css" in page
    event = AuditEvent.objects.get(action="subject_access.exported")
    assert event.details["format"] == "html" and event.target_id == str(subject.pk)


def test_csv_export_is_a_download_with_every_record(client_as, oversight, live_deployment, raise_alert):
    alert = raise_alert(0, score=0.81)
    subject = Subject.objects.get(reference="PNC-0000")

    response = client_as(oversight).get(reverse("oversight:subject_access_report_csv", args=[subject.pk]))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="subject-access-{subject.pk}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_kind = {row["record"]: row for row in rows}
    assert by_kind["Subject record"]["details"].startswith("PNC-0000; Subject 0")
    assert live_deployment.name in by_kind["Included in a deployment's watchlist"]["details"]
    assert "0.81" in by_kind["Alert"]["details"] and by_kind["Alert"]["retention"].startswith("deleted")
    assert alert.probe_file not in response.content.decode()
    event = AuditEvent.objects.get(action="subject_access.exported")
    assert event.actor == oversight and event.details["format"] == "csv"


def test_report_of_nobody_is_404(client_as, oversight):
    for url in report_urls(424242):
        assert client_as(oversight).get(url).status_code == 404


def test_the_search_page_query_count_does_not_grow_with_results(client_as, oversight, detective, live_deployment,
                                                                raise_alert, django_assert_max_num_queries):
    client = client_as(oversight)
    for index in range(2):
        raise_alert(index)
        raise_alert(index, score=0.9)
    for i in range(20):
        make_subject(detective, reference=f"PNC-X{i}", name=f"Subject extra {i}")
    # Sign-in, permissions and session ~9, the three id searches, six detail reads, the audit event: fixed.
    with django_assert_max_num_queries(28):
        response = client.get(SEARCH, {"q": "subject"})
    assert response.content.decode().count('data-testid="person-') == 22
    subject = Subject.objects.get(reference="PNC-0000")
    with django_assert_max_num_queries(28):
        assert client.get(reverse("oversight:subject_access_report", args=[subject.pk])).status_code == 200
