"""Urgent use (EU AI Act Art. 5(3)): live before authorisation in a recorded urgency, authorised afterwards within
DEPLOYMENT_URGENT_AUTHORISE_HOURS by someone else, or stopped with its alerts, their images and the snapshot's
embeddings deleted; the notification record for the authorities (Art. 5(4))."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from alerts.models import Alert, AlertRecord
from alerts.services import alert_create
from audit.models import AuditEvent
from bench.world import documents_attach
from core.errors import RuleViolation
from deployments.models import Deployment, DeploymentDocument, SnapshotReference, UrgentUse
from deployments.services import (
    deployment_stop,
    deployment_urgent_authorise,
    deployment_urgent_refuse,
    deployment_urgent_start,
    deployments_tick,
)
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from tests.samples import encode_jpeg, person_image

pytestmark = pytest.mark.django_db
State = Deployment.State
JUSTIFICATION = "Credible intelligence of an imminent knife attack at the station within the hour"


@pytest.fixture
def enabled(settings):
    settings.DEPLOYMENT_URGENT_USE_ENABLED = True


@pytest.fixture
def second_commander(make_user):
    return make_user(Role.AUTHORISING_OFFICER, username="ch_supt_khan")


@pytest.fixture
def planned(detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    return submitted_deployment(detective, approved_watchlist(detective, commander, subjects), [video_camera(detective)])


@pytest.fixture
def started(enabled, commander, planned):
    return deployment_urgent_start(actor=commander, deployment=planned, justification=JUSTIFICATION)


def raise_alert(deployment, index: int, capture) -> Alert:
    reference = SnapshotReference.objects.filter(snapshot__deployment=deployment).order_by("subject_id")[index]
    with capture(execute=True):
        return alert_create(deployment_id=deployment.pk, camera_id=deployment.cameras.first().pk,
                            snapshot_reference=reference, score=0.7, threshold=deployment.threshold,
                            model_id=deployment.snapshot.model_id, track_id=index + 1, frame_time=timezone.now(),
                            probe_jpeg=encode_jpeg(person_image(index)))


def test_refused_while_not_enabled(commander, planned):
    with pytest.raises(RuleViolation, match="urgent use without prior authorisation is not enabled"):
        deployment_urgent_start(actor=commander, deployment=planned, justification=JUSTIFICATION)
    assert Deployment.objects.get(pk=planned.pk).state == State.SUBMITTED


def test_starting_freezes_the_watchlist_goes_live_and_sets_the_deadline(enabled, commander, planned):
    now = timezone.now()
    deployment = deployment_urgent_start(actor=commander, deployment=planned, justification=JUSTIFICATION, now=now)
    deployment.refresh_from_db()
    assert deployment.state == State.LIVE and deployment.went_live_at == now and deployment.starts_at == now
    assert deployment.snapshot.subject_count == 2 and SnapshotReference.objects.filter(
        snapshot=deployment.snapshot).count() == 2
    urgent = deployment.urgent_use
    assert urgent.outcome == UrgentUse.Outcome.PENDING and urgent.started_by == commander
    assert urgent.authorise_by == now + dt.timedelta(hours=settings.DEPLOYMENT_URGENT_AUTHORISE_HOURS)
    assert urgent.notification["justification"] == JUSTIFICATION
    assert urgent.notification["started_by"]["username"] == commander.username
    assert urgent.notification["deployment"]["location"] == "High Street"
    event = AuditEvent.objects.get(action="deployment.urgent_started")
    assert event.actor == commander and event.details["justification"] == JUSTIFICATION
    assert not deployment.authorisations.exists()


def test_a_justification_is_required_and_only_senior_officers_start(enabled, commander, detective, planned):
    with pytest.raises(RuleViolation, match="record why the urgency"):
        deployment_urgent_start(actor=commander, deployment=planned, justification="  ")
    with pytest.raises(PermissionDenied):
        deployment_urgent_start(actor=detective, deployment=planned, justification=JUSTIFICATION)


def test_the_documents_may_follow_but_the_rest_of_the_checklist_applies(enabled, commander, planned):
    DeploymentDocument.objects.filter(deployment=planned).delete()
    Deployment.objects.filter(pk=planned.pk).update(signage_confirmed=False)
    with pytest.raises(RuleViolation, match="signage has not been confirmed") as refused:
        deployment_urgent_start(actor=commander, deployment=planned, justification=JUSTIFICATION)
    assert "uploaded" not in str(refused.value)


def test_the_starter_cannot_authorise_another_officer_does(started, commander, second_commander):
    with pytest.raises(RuleViolation, match="you started this urgent use"):
        deployment_urgent_authorise(actor=commander, deployment=started, reasons="ok")
    with pytest.raises(RuleViolation, match="you started this urgent use"):
        deployment_urgent_refuse(actor=commander, deployment=started, reasons="no")
    deployment_urgent_authorise(actor=second_commander, deployment=started, reasons="Justified and proportionate")
    started.refresh_from_db()
    assert started.state == State.LIVE
    urgent = started.urgent_use
    assert urgent.outcome == UrgentUse.Outcome.AUTHORISED and urgent.decided_by == second_commander
    record = started.authorisations.get()
    assert record.decided_by == second_commander and [d["kind"] for d in record.documents] == ["dpia", "eia", "apd"]
    assert urgent.notification["outcome"] == "authorised"
    # Decided: the deadline no longer applies.
    assert deployments_tick(now=urgent.authorise_by + dt.timedelta(minutes=1))["urgent_expired"] == 0


def test_the_after_the_fact_authorisation_needs_the_documents(started, detective, second_commander):
    DeploymentDocument.objects.filter(deployment=started, kind="apd").delete()
    with pytest.raises(RuleViolation, match="no appropriate policy document"):
        deployment_urgent_authorise(actor=second_commander, deployment=started, reasons="ok")
    # The planner may still add it while the urgent use awaits authorisation, although it is live.
    documents_attach(detective, started)
    deployment_urgent_authorise(actor=second_commander, deployment=started, reasons="ok")
    assert [(d["kind"], d["version"]) for d in started.authorisations.get().documents] == [
        ("dpia", 2), ("eia", 2), ("apd", 1)]


def test_no_authorisation_after_the_deadline(started, second_commander):
    late = started.urgent_use.authorise_by + dt.timedelta(seconds=1)
    with pytest.raises(RuleViolation, match="the deadline for authorising this urgent use passed"):
        deployment_urgent_authorise(actor=second_commander, deployment=started, reasons="ok", now=late)


def test_refusal_stops_it_and_deletes_its_alerts_images_and_embeddings(started, second_commander, client_as,
                                                                         django_capture_on_commit_callbacks):
    alerts = [raise_alert(started, i, django_capture_on_commit_callbacks) for i in range(2)]
    probes = [Path(settings.PROTECTED_MEDIA_ROOT) / a.probe_file for a in alerts]
    assert all(p.is_file() for p in probes) and AlertRecord.objects.filter(deployment=started).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        deployment_urgent_refuse(actor=second_commander, deployment=started, reasons="Not necessary")
    started.refresh_from_db()
    assert started.state == State.STOPPED and started.ended_at is not None
    assert not Alert.objects.filter(deployment=started).exists()
    assert not AlertRecord.objects.filter(deployment=started).exists()
    assert not any(p.exists() for p in probes)
    assert not SnapshotReference.objects.filter(snapshot__deployment=started).exists()
    assert started.snapshot.biometrics_deleted_at is not None
    assert started.manifest.count() == 2  # the record of who was on the watchlist stays
    urgent = started.urgent_use
    assert (urgent.outcome, urgent.alerts_deleted, urgent.images_deleted) == (UrgentUse.Outcome.REFUSED, 2, 2)
    assert urgent.notification["deleted"] == {"alerts": 2, "images": 2, "reference_embeddings": 2}
    refused = AuditEvent.objects.get(action="deployment.urgent_refused")
    assert refused.actor == second_commander and refused.details["alerts_deleted"] == 2
    assert AuditEvent.objects.get(action="alert.deleted_for_deployment").details["alerts"] == 2
    assert started.authorisations.get().decision == "rejected"
    page = client_as(second_commander).get(reverse("deployments:detail", args=[started.pk])).content.decode()
    assert "Urgent use refused at" in page and "2 alerts and their images deleted" in page
    # A match still in a worker's spool is not delivered into the deleted record.
    with pytest.raises(RuleViolation, match="urgent use was refused"):
        raise_alert_after_deletion(started)


def raise_alert_after_deletion(deployment):
    from deployments.models import SnapshotReference as Reference

    return alert_create(deployment_id=deployment.pk, camera_id=deployment.cameras.first().pk,
                        snapshot_reference=Reference(subject_id=1, subject_reference="X", name="X", category="other",
                                                     reason="", priority="normal", reference_image_id=1),
                        score=0.7, threshold=0.5, model_id="m", track_id=9, frame_time=timezone.now(),
                        probe_jpeg=encode_jpeg(person_image(0)))


def test_the_tick_stops_and_deletes_an_urgent_use_not_authorised_in_time(started, commander,
                                                                           django_capture_on_commit_callbacks):
    alert = raise_alert(started, 0, django_capture_on_commit_callbacks)
    deadline = started.urgent_use.authorise_by
    # A second before the deadline: nothing is deleted (the 4-hour window has closed: the use completed).
    assert deployments_tick(now=deadline - dt.timedelta(seconds=1)) == {"started": 0, "completed": 1,
                                                                         "urgent_expired": 0}
    assert Alert.objects.filter(pk=alert.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        result = deployments_tick(now=deadline)
    assert result["urgent_expired"] == 1
    started.refresh_from_db()
    assert started.state == State.COMPLETED
    assert started.urgent_use.outcome == UrgentUse.Outcome.EXPIRED and started.urgent_use.alerts_deleted == 1
    assert not Alert.objects.filter(deployment=started).exists()
    event = AuditEvent.objects.get(action="deployment.urgent_expired")
    assert event.actor is None and event.details["alerts_deleted"] == 1


def test_an_ended_urgent_use_still_needs_its_authorisation(started, commander, django_capture_on_commit_callbacks):
    raise_alert(started, 1, django_capture_on_commit_callbacks)
    deployment_stop(actor=commander, deployment=started, reason="incident over")
    with django_capture_on_commit_callbacks(execute=True):
        deployments_tick(now=started.urgent_use.authorise_by)
    started.refresh_from_db()
    assert started.state == State.STOPPED and started.urgent_use.outcome == UrgentUse.Outcome.EXPIRED
    assert not Alert.objects.filter(deployment=started).exists()


# --- the notification record, the API and the page -------------------------------------------------------

@pytest.mark.parametrize("role, status", [("oversight", 200), ("second_commander", 200), ("officer", 403),
                                          ("detective", 403)])
def test_who_reads_the_notification_and_that_it_is_audited(request, client_as, started, role, status):
    user = request.getfixturevalue(role)
    started.officers.add(request.getfixturevalue("officer"))
    response = client_as(user).get(reverse("deployments:urgent_notification", args=[started.pk]))
    assert response.status_code == status
    viewed = AuditEvent.objects.filter(action="deployment.urgent_notification_viewed", actor=user)
    assert viewed.count() == (1 if status == 200 else 0)
    if status == 200:
        assert JUSTIFICATION in response.content.decode()


def test_the_notification_downloads_as_json(client_as, oversight, started):
    response = client_as(oversight).get(reverse("deployments:urgent_notification", args=[started.pk]) + "?format=json")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    assert response.json()["justification"] == JUSTIFICATION and response.json()["outcome"] == "pending"


def test_api_path(enabled, api_as, commander, second_commander, oversight, planned):
    url = f"/api/deployments/{planned.pk}/"
    assert api_as(commander).post(f"{url}urgent-start", {}, format="json").status_code == 400
    started = api_as(commander).post(f"{url}urgent-start", {"justification": JUSTIFICATION}, format="json")
    assert started.status_code == 200, started.content
    assert started.json()["state"] == "live" and started.json()["urgent_use"]["outcome"] == "pending"
    assert api_as(oversight).get(f"{url}urgent-notification").json()["justification"] == JUSTIFICATION
    queue = "/api/deployments/authorisation-queue/"
    assert [d["id"] for d in api_as(second_commander).get(queue).json()["results"]] == [planned.pk]
    assert api_as(commander).get(queue).json()["count"] == 0  # the starter does not decide
    refused = api_as(commander).post(f"{url}urgent-authorise", {"reasons": "mine"}, format="json")
    assert refused.status_code == 400 and "you started this urgent use" in refused.json()["errors"][0]
    decided = api_as(second_commander).post(f"{url}urgent-authorise", {"reasons": "Justified"}, format="json")
    assert decided.status_code == 200 and decided.json()["urgent_use"]["outcome"] == "authorised"
    assert api_as(second_commander).get(queue).json()["count"] == 0


def test_page_offers_start_and_decision_to_the_right_people(enabled, client_as, commander, second_commander, planned):
    page = client_as(commander).get(reverse("deployments:detail", args=[planned.pk])).content.decode()
    assert 'data-testid="urgent-start"' in page
    response = client_as(commander).post(reverse("deployments:urgent_start", args=[planned.pk]),
                                         {"justification": JUSTIFICATION})
    assert response.status_code == 302
    page = client_as(commander).get(reverse("deployments:detail", args=[planned.pk])).content.decode()
    assert 'data-testid="urgent-use"' in page and 'data-testid="urgent-decision"' not in page
    page = client_as(second_commander).get(reverse("deployments:detail", args=[planned.pk])).content.decode()
    assert 'data-testid="urgent-decision"' in page and 'data-testid="urgent-notification-link"' in page
    response = client_as(second_commander).post(reverse("deployments:urgent_refuse", args=[planned.pk]),
                                                {"reasons": "Not justified"})
    assert response.status_code == 302
    assert Deployment.objects.get(pk=planned.pk).state == State.STOPPED


def test_a_live_urgent_use_past_its_deadline_is_stopped(settings, enabled, commander, planned,
                                                        django_capture_on_commit_callbacks):
    settings.DEPLOYMENT_URGENT_AUTHORISE_HOURS = 1
    now = timezone.now()
    deployment = deployment_urgent_start(actor=commander, deployment=planned, justification=JUSTIFICATION, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        assert deployments_tick(now=now + dt.timedelta(hours=1))["urgent_expired"] == 1
    deployment.refresh_from_db()
    assert deployment.state == State.STOPPED
    assert deployment.transitions.last().note.startswith("urgent use not authorised in time")
