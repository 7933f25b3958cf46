"""Deployments in every state, built through the real services, for the public pages (tests/transparency and the
browser test): which the public sees, and what the pages must never show (the subject's name, officers, camera
sources, the deployment's name)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SUBJECT_NAME = "Rosalind Quarterman-Vex"


@dataclass
class PublicWorld:
    draft: object
    submitted: object
    rejected: object
    cancelled: object
    upcoming: object  # authorised, starting tomorrow
    live: object
    completed: object  # ended, with faces counted and an alert
    stopped: object
    camera: object
    secrets: tuple[str, ...]  # what no public page or feed may contain


def build_public_world(detective, commander, officer) -> PublicWorld:
    from django.utils import timezone

    from alerts.services import alert_create
    from bench import world
    from deployments.models import SnapshotReference
    from deployments.services import (
        deployment_authorise,
        deployment_cancel,
        deployment_create,
        deployment_reject,
        deployment_stop,
        deployments_tick,
    )
    from recognition.services import face_counts_add
    from tests.factories import approved_watchlist, submitted_deployment, video_camera
    from tests.samples import encode_jpeg, person_image, person_jpeg
    from watchlists.models import InclusionCategory

    subject = world.enrolled_subject(detective, data=person_jpeg(0), image_source="CUS/0", reference="PNC-7781",
                                     name=SUBJECT_NAME, category=InclusionCategory.SUSPECTED_OF_OFFENCE,
                                     reason="Wanted for robbery", legal_basis="PACE s.24")
    watchlist = approved_watchlist(detective, commander, [subject])
    camera = video_camera(detective, "Lamp post 14 camera")

    def planned(name: str, starts_in: dt.timedelta, **extra):
        return submitted_deployment(detective, watchlist, [camera], name=name, starts_in=starts_in,
                                    location=f"{name.removeprefix('Op ')} Street", **extra)

    def authorised(name: str, starts_in: dt.timedelta):
        deployment = planned(name, starts_in)
        deployment.officers.set([officer])
        return deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")

    draft = deployment_create(actor=detective, name="Op Draft", purpose="crime_hotspot", location="Draft location",
                              location_reason="r", starts_at=timezone.now() + dt.timedelta(days=3),
                              ends_at=timezone.now() + dt.timedelta(days=3, hours=2), watchlist=watchlist,
                              cameras=[camera], necessity_statement="n", dpia_reference="D-1", threshold=None)
    submitted = planned("Op Submitted", dt.timedelta(days=4))
    rejected = deployment_reject(actor=commander, deployment=planned("Op Rejected", dt.timedelta(days=5)),
                                 reasons="Not proportionate")
    cancelled = deployment_cancel(actor=commander, deployment=authorised("Op Cancelled", dt.timedelta(days=6)),
                                  reason="Event called off")
    upcoming = authorised("Op Tomorrow", dt.timedelta(days=1))

    completed = authorised("Op Completed", dt.timedelta(minutes=10))
    deployments_tick(now=completed.starts_at)
    completed.refresh_from_db()
    face_counts_add(deployment_id=completed.pk, camera_id=camera.pk, moment=timezone.now(), faces=1234, frames=1234,
                    tracks=87)
    reference = SnapshotReference.objects.filter(snapshot=completed.snapshot).first()
    alert_create(deployment_id=completed.pk, camera_id=camera.pk, snapshot_reference=reference, score=0.7,
                 threshold=completed.threshold, model_id=completed.snapshot.model_id, track_id=1,
                 frame_time=timezone.now(), probe_jpeg=encode_jpeg(person_image(0)))
    deployments_tick(now=completed.ends_at)
    completed.refresh_from_db()

    stopped = authorised("Op Stopped", dt.timedelta(hours=5, minutes=10))
    stopped = deployment_stop(actor=commander, deployment=stopped, reason="Disorder nearby")

    live = authorised("Op Live", dt.timedelta(hours=10, minutes=10))
    deployments_tick(now=live.starts_at)
    live.refresh_from_db()

    secrets = (SUBJECT_NAME, "PNC-7781", "Lamp post 14 camera", camera.source_url, "test-camera.mp4", watchlist.name,
               "Op Tomorrow", "Op Completed", "Op Live", detective.username, commander.username, officer.username,
               detective.get_full_name(), commander.get_full_name(), "Wanted for robbery", "/protected/")
    return PublicWorld(draft=draft, submitted=submitted, rejected=rejected, cancelled=cancelled, upcoming=upcoming,
                       live=live, completed=completed, stopped=stopped, camera=camera, secrets=secrets)
