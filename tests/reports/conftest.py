"""Deployments live at chosen times, with faces counted and alerts decided, built through the real services.

The services stamp transitions and alerts with the real clock; the fixtures then move those stamps to the
times a test needs (a deployment last March), which is what the statistics read.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

LONDON = zoneinfo.ZoneInfo("Europe/London")


def at(year, month, day, hour=12, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def report_watchlist(detective, commander):
    from tests.factories import approved_watchlist, enrolled_subject

    return approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])


@pytest.fixture
def make_live(detective, commander, officer, report_watchlist):
    """make_live(name, live_from, live_until=None, cameras=[...], threshold=None): a deployment live over that
    span (at the default threshold unless given)."""
    from deployments.models import DeploymentTransition
    from deployments.services import deployment_authorise, deployment_stop, deployments_tick
    from tests.factories import submitted_deployment, video_camera

    def make(name: str, live_from: dt.datetime, live_until: dt.datetime | None = None, cameras=None,
             threshold: float | None = None):
        cameras = cameras or [video_camera(detective, f"{name} camera")]
        deployment = submitted_deployment(detective, report_watchlist, cameras, name=name,
                                          location=f"{name} location", threshold=threshold)
        deployment.officers.set([officer])
        deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
        deployments_tick(now=deployment.starts_at)
        if live_until is not None:
            deployment_stop(actor=commander, deployment=deployment, reason="operation over")
            DeploymentTransition.objects.filter(deployment=deployment, from_state="live").update(at=live_until)
        DeploymentTransition.objects.filter(deployment=deployment, to_state="live").update(at=live_from)
        deployment.refresh_from_db()
        return deployment

    return make


@pytest.fixture
def raise_at(officer):
    """raise_at(deployment, when, decision=None, decided_after=minutes, **details): one alert, maybe decided."""
    from alerts.models import Alert, AlertRecord
    from alerts.services import alert_adjudicate, alert_create, alert_engagement_record
    from deployments.models import SnapshotReference
    from tests.samples import encode_jpeg, person_image

    probe = encode_jpeg(person_image(0))
    track = iter(range(1, 10_000))

    def raise_(deployment, when: dt.datetime, decision: str | None = None, decided_after: float = 1.0,
               camera=None, **details):
        reference = SnapshotReference.objects.filter(snapshot=deployment.snapshot).first()
        camera = camera or deployment.cameras.first()
        alert = alert_create(deployment_id=deployment.pk, camera_id=camera.pk, snapshot_reference=reference,
                             score=0.7, threshold=deployment.threshold, model_id=deployment.snapshot.model_id,
                             track_id=next(track), frame_time=when, probe_jpeg=probe)
        Alert.objects.filter(pk=alert.pk).update(created_at=when)
        AlertRecord.objects.filter(alert=alert).update(raised_at=when)
        # Stage 2 (the engagement) is its own step after the decision on the images.
        stage_two = {k: details.pop(k) for k in ("engaged", "identity_confirmed", "stop_minutes", "result")
                     if k in details}
        if decision:
            alert = alert_adjudicate(actor=officer, alert=alert, decision=decision, **details)
        if stage_two:
            if stage_two.get("engaged"):
                stage_two.setdefault("identity_confirmed", True)
            alert_engagement_record(actor=officer, alert=alert, **stage_two)
        if decision:
            AlertRecord.objects.filter(alert=alert).update(first_decided_at=when + dt.timedelta(minutes=decided_after))
        return alert

    return raise_


@pytest.fixture
def count_faces():
    from recognition.services import face_counts_add

    def add(deployment, when: dt.datetime, faces: int, camera=None, tracks: int = 0):
        camera = camera or deployment.cameras.first()
        face_counts_add(deployment_id=deployment.pk, camera_id=camera.pk, moment=when, faces=faces, frames=faces,
                        tracks=tracks)

    return add


@pytest.fixture
def record_stage_two():
    """record_stage_two(alert, **fields): AlertRecord fields the services cannot give a test subject's
    snapshot alone: another inclusion category (copied at creation), or a stop recorded without its minutes (as
    before they were required). The stage-2 steps themselves go through raise_at (alert_engagement_record)."""
    from alerts.models import AlertRecord

    def record(alert, **fields):
        AlertRecord.objects.filter(alert=alert).update(**fields)

    return record
