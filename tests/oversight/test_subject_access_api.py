"""Subject access API: the same search and report as the pages, as JSON."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.factories import make_subject
from watchlists.models import Subject

pytestmark = pytest.mark.django_db

SEARCH = reverse("api:subject-access-search")


def keys(value) -> set[str]:
    """Every key at any depth of a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def report(subject_id):
    return reverse("api:subject-access-report", args=[subject_id])


def test_search_returns_people_grouped_with_their_records(api_as, oversight, live_deployment, raise_alert):
    alert = raise_alert(1, score=0.66)
    subject = Subject.objects.get(reference="PNC-0001")

    response = api_as(oversight).get(SEARCH, {"q": "subject 1"})

    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "subject 1" and body["truncated"] is False
    [person] = body["people"]
    assert person["subject_id"] == subject.pk and person["reference"] == "PNC-0001"
    assert person["subject"]["status"] == "active"
    assert [e["watchlist_id"] for e in person["watchlist_entries"]] == [live_deployment.watchlist_id]
    [deployment] = person["deployments"]
    assert deployment["deployment_id"] == live_deployment.pk and deployment["state"] == "live"
    assert deployment["category"] == subject.category and deployment["reason"] == subject.reason
    [alert_json] = person["alerts"]
    assert alert_json["id"] == alert.pk and alert_json["score"] == pytest.approx(0.66)
    assert alert_json["deletion_due"] is not None
    assert alert.probe_file not in response.content.decode()
    assert not keys(body) & {"embedding", "file_name", "probe_file"}
    assert AuditEvent.objects.get(action="subject_access.searched").details["people"] == 1


@pytest.mark.parametrize("params", [{}, {"q": "x"}])
def test_a_missing_or_short_query_is_400(api_as, oversight, params):
    response = api_as(oversight).get(SEARCH, params)
    assert response.status_code == 400
    assert "at least 2 characters" in response.json()["errors"][0]


def test_a_query_with_control_characters_is_400_not_a_server_error(api_as, oversight):
    # Found by `make fuzz`: a NUL byte reached PostgreSQL, which cannot hold one in text.
    response = api_as(oversight).get(SEARCH, {"q": "Ale\x00x"})
    assert response.status_code == 400
    assert response.json()["errors"] == ["the search may hold only printable characters"]
    assert not AuditEvent.objects.filter(action="subject_access.searched").exists()


def test_report_as_json_is_an_audited_export(api_as, oversight, live_deployment):
    subject = Subject.objects.get(reference="PNC-0000")
    response = api_as(oversight).get(report(subject.pk))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    body = response.json()
    assert body["person"]["reference"] == "PNC-0000"
    assert any(row["record"] == "Included in a deployment's watchlist" and live_deployment.name in row["details"]
               for row in body["rows"])
    event = AuditEvent.objects.get(action="subject_access.exported")
    assert event.details["format"] == "json" and event.target_id == str(subject.pk)
    assert api_as(oversight).get(report(987_654)).status_code == 404


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "administrator", "outsider"])
def test_other_roles_get_403(request, api_as, role, detective):
    subject = make_subject(detective)
    api = api_as(request.getfixturevalue(role))
    assert api.get(SEARCH, {"q": subject.reference}).status_code == 403
    assert api.get(report(subject.pk)).status_code == 403


def test_anonymous_calls_get_403_not_a_redirect(detective):
    subject = make_subject(detective)
    assert APIClient().get(SEARCH, {"q": "Alex"}).status_code == 403
    assert APIClient().get(report(subject.pk)).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="subject_access.").exists()
