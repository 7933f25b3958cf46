"""Subject access search and report: found across subjects, watchlists, manifests and alerts; audited; bounded."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.services import alert_adjudicate
from audit.models import AuditEvent
from deployments.services import deployments_tick, snapshots_delete_biometrics
from oversight.subject_access import report_csv, report_rows, subject_access_report, subject_access_search
from tests.factories import make_subject
from watchlists.models import ReferenceImage, Subject
from watchlists.services import subject_purge, subject_update

pytestmark = pytest.mark.django_db


def person(result, reference):
    [found] = [p for p in result.people if p.reference == reference]
    return found


def test_reference_finds_watchlist_deployment_and_alerts(oversight, live_deployment, raise_alert, officer):
    alert = raise_alert(0, score=0.74)
    alert_adjudicate(actor=officer, alert=alert, decision="not_a_match", notes="different person")
    subject = Subject.objects.get(reference="PNC-0000")

    result = subject_access_search(user=oversight, query="PNC-0000")

    assert [p.subject_id for p in result.people] == [subject.pk]  # exact: PNC-0001 is not listed
    found = result.people[0]
    assert found.subject == subject
    assert [e.watchlist_id for e in found.watchlist_entries] == [live_deployment.watchlist_id]
    [inclusion] = found.deployments
    assert inclusion.deployment == live_deployment
    assert inclusion.entry.category == subject.category
    assert inclusion.reason == subject.reason and inclusion.biometric_copy_held
    [record] = found.alerts
    assert record.alert == alert and record.alert.status == "not_a_match"
    assert [a.decision for a in record.alert.adjudications.all()] == ["not_a_match"]
    assert record.deletion_due == alert.created_at + dt.timedelta(days=settings.ALERT_RETENTION_DAYS)


def test_name_is_partial_case_and_accent_insensitive(oversight, detective):
    zoe = make_subject(detective, reference="PNC-26/1", name="Zoë Álvarez-Núñez")
    make_subject(detective, reference="PNC-26/2", name="Zoe Smith")
    make_subject(detective, reference="PNC-26/3", name="Sam Alvarado")

    assert [p.subject_id for p in subject_access_search(user=oversight, query="zoe alvarez").people] == [zoe.pk]
    assert {p.reference for p in subject_access_search(user=oversight, query="ZOË").people} == {"PNC-26/1", "PNC-26/2"}
    assert {p.reference for p in subject_access_search(user=oversight, query="alvar").people} == {
        "PNC-26/1", "PNC-26/3"}
    assert subject_access_search(user=oversight, query="nunez").people[0].subject_id == zoe.pk
    # A reference matches only in full: part of one finds nobody.
    assert subject_access_search(user=oversight, query="PNC-26").people == []


@pytest.mark.parametrize("query", ["%%", "__", ".*", "[a-z]", "a|x", "(ex"])
def test_wildcards_and_regex_characters_in_the_query_are_literal(oversight, detective, query):
    make_subject(detective, reference="PNC-26/1", name="Alex Example")
    assert subject_access_search(user=oversight, query=query).people == []


def test_punctuation_in_a_name_matches_itself(oversight, detective):
    subject = make_subject(detective, reference="PNC-26/1", name="Pat O'Brien (Jnr.)")
    assert [p.subject_id for p in subject_access_search(user=oversight, query="o'brien (jnr.").people] == [subject.pk]


def test_the_name_at_the_time_is_still_found_after_a_rename(oversight, detective, live_deployment):
    subject = Subject.objects.get(reference="PNC-0001")
    subject_update(actor=detective, subject=subject, expected_version=subject.version, changes={"name": "Jamie New"})

    found = subject_access_search(user=oversight, query="subject 1").people
    assert [p.subject_id for p in found] == [subject.pk]  # through the deployment's manifest
    assert found[0].name == "Jamie New" and found[0].names == ["Jamie New", "Subject 1"]
    assert found[0].deployments[0].entry.name == "Subject 1"


def test_purged_subject_is_found_with_its_history_but_no_biometric_data(oversight, detective, live_deployment,
                                                                        raise_alert):
    alert = raise_alert(1)
    deployments_tick(now=live_deployment.ends_at)  # completed
    snapshots_delete_biometrics()
    subject = Subject.objects.get(reference="PNC-0001")
    subject_purge(actor=None, subject=subject, why="retention expired")

    [found] = subject_access_search(user=oversight, query="PNC-0001").people

    assert found.purged and found.subject.purged_at is not None
    assert found.images == [] and not ReferenceImage.objects.filter(subject=subject).exists()
    assert found.watchlist_entries == []  # the purge took them off every watchlist
    [inclusion] = found.deployments
    assert inclusion.deployment.pk == live_deployment.pk and inclusion.deployment.state == "completed"
    assert not inclusion.biometric_copy_held and inclusion.biometric_copy_retention.startswith("deleted ")
    assert inclusion.reason == alert.reason
    assert [r.alert.pk for r in found.alerts] == [alert.pk]
    assert "images and embeddings deleted" in found.biometric_retention


def test_the_reason_at_the_time_outlives_the_frozen_copy_without_any_alert(oversight, detective, live_deployment):
    subject = Subject.objects.get(reference="PNC-0000")
    reason_then = subject.reason
    deployments_tick(now=live_deployment.ends_at)
    snapshots_delete_biometrics()
    subject_update(actor=detective, subject=subject, expected_version=subject.version,
                   changes={"reason": "Wanted for a later burglary"})

    [found] = subject_access_search(user=oversight, query="PNC-0000").people

    [inclusion] = found.deployments
    assert not inclusion.biometric_copy_held and found.alerts == []
    assert inclusion.reason == reason_then  # kept in the manifest, not today's reason


def test_every_search_is_audited_with_what_it_found(oversight, live_deployment, raise_alert):
    raise_alert(0)
    raise_alert(1)
    result = subject_access_search(user=oversight, query="Subject")

    event = AuditEvent.objects.get(action="subject_access.searched")
    assert event.actor == oversight
    assert event.details["query"] == "Subject"
    assert event.details["people"] == len(result.people) == 2
    # Each person: subject row + 1 watchlist entry + 1 deployment + 1 alert.
    assert event.details["records"] == result.record_count == 8
    assert sorted(event.details["subject_ids"]) == sorted(p.subject_id for p in result.people)

    subject_access_search(user=oversight, query="nobody at all")
    assert AuditEvent.objects.filter(action="subject_access.searched").last().details["people"] == 0


@pytest.mark.parametrize("query", ["", " ", "a", " b ", "x" * 201])
def test_a_query_too_short_or_too_long_is_refused_and_not_audited(oversight, query):
    with pytest.raises(ValidationError):
        subject_access_search(user=oversight, query=query)
    assert not AuditEvent.objects.filter(action="subject_access.searched").exists()


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "administrator", "outsider"])
def test_only_oversight_may_search_or_export(request, role, detective):
    subject = make_subject(detective)
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        subject_access_search(user=user, query=subject.reference)
    with pytest.raises(PermissionDenied):
        subject_access_report(user=user, subject_id=subject.pk, export_format="csv")
    assert not AuditEvent.objects.filter(action__startswith="subject_access.").exists()


def test_the_search_is_a_fixed_number_of_queries(oversight, detective, live_deployment, raise_alert):
    def queries_for(query):
        with CaptureQueriesContext(connection) as captured:
            result = subject_access_search(user=oversight, query=query)
        return len(captured), result

    raise_alert(0)
    queries_for("warm up")  # the user's permission cache
    few, result = queries_for("PNC-0000")  # one person, one deployment, one alert
    assert len(result.people) == 1
    for index in range(2):
        raise_alert(index, score=0.8)
        raise_alert(index, score=0.9)
    for i in range(6):
        make_subject(detective, reference=f"PNC-X{i}", name=f"Subject extra {i}")
    many, result = queries_for("subject")
    assert len(result.people) == 8 and sum(len(p.alerts) for p in result.people) == 5
    assert many == few


def test_report_lists_every_record_with_its_retention_and_no_image(oversight, live_deployment, raise_alert):
    alert = raise_alert(0)
    subject = Subject.objects.get(reference="PNC-0000")

    person = subject_access_report(user=oversight, subject_id=subject.pk, export_format="csv")
    rows = report_rows(person)
    kinds = [row["record"] for row in rows]
    assert kinds.count("Alert") == 1 and kinds.count("Included in a deployment's watchlist") == 1
    assert "Reference image (metadata only)" in kinds and "On watchlist" in kinds
    [deployment_row] = [r for r in rows if r["record"] == "Included in a deployment's watchlist"]
    assert live_deployment.name in deployment_row["details"] and live_deployment.location in deployment_row["details"]
    assert "Suspected of an offence" in deployment_row["details"]
    assert "held; deleted by" in deployment_row["retention"]
    [alert_row] = [r for r in rows if r["record"] == "Alert"]
    due = alert.created_at + dt.timedelta(days=settings.ALERT_RETENTION_DAYS)
    assert f"{due.astimezone():%d %b %Y}" in alert_row["retention"] and "0.71" in alert_row["details"]

    csv_text = report_csv(person)
    image = ReferenceImage.objects.get(subject=subject)
    assert alert.probe_file not in csv_text and image.file_name not in csv_text
    assert csv_text.splitlines()[0] == "record,when,details,status,retention"

    event = AuditEvent.objects.get(action="subject_access.exported")
    assert event.actor == oversight and event.target_id == str(subject.pk)
    assert event.details["format"] == "csv" and event.details["alerts"] == 1


def test_report_of_an_unknown_subject_is_404_and_unknown_format_refused(oversight, detective):
    from django.http import Http404

    with pytest.raises(Http404):
        subject_access_report(user=oversight, subject_id=999_999, export_format="csv")
    subject = make_subject(detective)
    with pytest.raises(ValidationError):
        subject_access_report(user=oversight, subject_id=subject.pk, export_format="pdf")
    assert not AuditEvent.objects.filter(action="subject_access.exported").exists()
