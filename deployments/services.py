"""Cameras and deployments: the state machine, authorisation with its frozen snapshot, schedules, retention."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.permissions import require_any_capability
from audit.actions import AuditAction
from audit.services import audit_record
from core.errors import ChangedSinceShown, ConcurrentEditError, RuleViolation
from core.policy import enforce
from deployments.camera_sources import camera_source_policy, camera_sources_help
from deployments.models import (
    Camera,
    Deployment,
    DeploymentAuthorisation,
    DeploymentTransition,
    ManifestEntry,
    PostDeploymentRecord,
    Purpose,
    SnapshotReference,
    WatchlistSnapshot,
)
from deployments.policies import (
    CREATE_CAPABILITIES,
    ENDED_STATES,
    Action,
    CameraAction,
    camera_refusal,
    deployment_refusal,
    deployment_role_refusal,
    is_assignable_officer,
)
from deployments.signals import deployment_state_changed
from recognition import runtime  # runtime.current_model_id(), looked up at each call (tests replace it)
from recognition.calibration import group_ratio_problems, shown_figures_key, threshold_expectation, walkby_expectation
from recognition.ml.models import ModelFileError
from recognition.source_urls import redact_url
from recognition.sources import SourceRefused, UnknownSourceScheme, source_validate
from watchlists.ages import reference_enrolled_as_child, reference_threshold_offset
from watchlists.models import ReferenceImage, Subject, Watchlist
from watchlists.selectors import watchlist_review_is_current

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
State = Deployment.State
START_GRACE = dt.timedelta(minutes=5)  # an authorisation may start "now" although the form said a minute ago

DEPLOYMENT_EDITABLE_FIELDS = frozenset({
    "name", "purpose", "location", "location_reason", "starts_at", "ends_at", "watchlist", "threshold",
    "necessity_statement", "dpia_reference", "signage_confirmed", "public_notice_confirmed",
})


# --- cameras ------------------------------------------------------------------------------------

def camera_source_validate(source_url: str) -> str:
    """The canonical source URL, as the source registry's kind for its scheme checks it against the policy
    (CAMERA_ALLOWED_NETWORKS, CAMERA_FILE_ROOT)."""
    try:
        return source_validate(source_url, policy=camera_source_policy())
    except SourceRefused as exc:
        raise RuleViolation(exc.reason) from None
    except UnknownSourceScheme as exc:
        raise RuleViolation(f"camera sources must be {camera_sources_help()}; {exc.scheme}:// is not allowed") from None


def camera_source_reveal(*, actor: User, camera: Camera) -> str:
    """The camera's URL with its password, for whoever may edit the camera; every read is audited."""
    enforce(camera_refusal(user=actor, action=CameraAction.EDIT, camera=camera))
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.CAMERA_SOURCE_VIEWED, target=camera,
                     details={"name": camera.name})
    return camera.source_url


def camera_create(*, actor: User, name: str, source_url: str, location: str, enabled: bool = True) -> Camera:
    enforce(camera_refusal(user=actor, action=CameraAction.CREATE))
    if not name.strip() or not location.strip():
        raise RuleViolation("a camera needs a name and a location")
    source = camera_source_validate(source_url)
    max_length = Camera._meta.get_field("source_url").max_length
    if max_length is not None and len(source) > max_length:
        raise RuleViolation("the camera URL is too long once encoded")
    with transaction.atomic():
        camera = Camera.objects.create(name=name.strip(), source_url=source, location=location.strip(),
                                       enabled=enabled, created_by=actor)
        audit_record(actor=actor, action=AuditAction.CAMERA_CREATED, target=camera,
                     details={"name": camera.name, "location": camera.location, "source": redact_url(source)})
    return camera


# --- drafting -----------------------------------------------------------------------------------

def _check_fields(values: dict, *, threshold_set: bool = True) -> None:
    if values["purpose"] not in Purpose.values:
        raise RuleViolation(f"purpose must be one of: {', '.join(Purpose.values)}")
    if values["ends_at"] <= values["starts_at"]:
        raise RuleViolation("the deployment must end after it starts")
    if not 0.0 < float(values["threshold"]) < 1.0:
        raise RuleViolation("the threshold is a similarity between 0 and 1")
    if threshold_set:
        problems = _group_ratio_problems(float(values["threshold"]))
        if problems:
            raise RuleViolation(problems)


def _group_ratio_problems(threshold: float) -> list[str]:
    """DEPLOYMENT_MAX_GROUP_RATIO against the walk-by calibration of the model in use (recognition.calibration's
    one rule); nothing when it is off or the model cannot be read (the pages say that apart)."""
    if settings.DEPLOYMENT_MAX_GROUP_RATIO is None:
        return []

    try:
        model_id = runtime.current_model_id()
    except ModelFileError:
        return []
    return group_ratio_problems(model_id=model_id, threshold=threshold)


def deployment_create(*, actor: User, name: str, purpose: str, location: str, location_reason: str,
                      starts_at: dt.datetime, ends_at: dt.datetime, watchlist: Watchlist, cameras: list[Camera],
                      necessity_statement: str, dpia_reference: str, threshold: float | None = None,
                      signage_confirmed: bool = False, public_notice_confirmed: bool = False,
                      officers=()) -> Deployment:
    require_any_capability(user=actor, capabilities=CREATE_CAPABILITIES)
    values = {"name": name.strip(), "purpose": purpose, "location": location.strip(),
              "location_reason": location_reason.strip(), "starts_at": starts_at, "ends_at": ends_at,
              "watchlist": watchlist,
              "threshold": settings.DEPLOYMENT_DEFAULT_THRESHOLD if threshold is None else float(threshold),
              "necessity_statement": necessity_statement.strip(), "dpia_reference": dpia_reference.strip(),
              "signage_confirmed": signage_confirmed, "public_notice_confirmed": public_notice_confirmed}
    _check_fields(values)
    with transaction.atomic():
        deployment = Deployment.objects.create(created_by=actor, **values)
        deployment.cameras.set(cameras)
        deployment.officers.set(_check_officers(officers))
        _transition_log(deployment, "", State.DRAFT, actor, "created")
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_CREATED, target=deployment, deployment=deployment,
                     details={"name": deployment.name, "watchlist": watchlist.pk,
                                               "cameras": [c.pk for c in cameras]})
    return deployment


def deployment_update(*, actor: User, deployment: Deployment, expected_version: int, changes: dict,
                      cameras: list[Camera] | None = None, officers=None) -> Deployment:
    enforce(deployment_role_refusal(user=actor, action=Action.EDIT))
    unknown = set(changes) - DEPLOYMENT_EDITABLE_FIELDS
    if unknown:
        raise RuleViolation(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = _locked(deployment, expected_version)
        enforce(deployment_refusal(user=actor, deployment=locked, action=Action.EDIT))
        _check_fields({f: getattr(locked, f) for f in DEPLOYMENT_EDITABLE_FIELDS} | changes,
                      threshold_set="threshold" in changes)
        for field, value in changes.items():
            setattr(locked, field, value)
        if locked.state == State.REJECTED:
            _set_state(locked, State.DRAFT, actor, "edited after rejection")
        locked.version += 1
        locked.save()
        if cameras is not None:
            locked.cameras.set(cameras)
        if officers is not None:
            locked.officers.set(_check_officers(officers))
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_UPDATED, target=locked, deployment=locked,
                     details={"fields": sorted(changes) + (["cameras"] if cameras is not None else [])})
    return locked


def deployment_officers_set(*, actor: User, deployment: Deployment, officers) -> None:
    """Who receives the alerts."""
    enforce(deployment_refusal(user=actor, deployment=deployment, action=Action.ASSIGN_OFFICERS))
    officers = _check_officers(officers)
    with transaction.atomic():
        deployment.officers.set(officers)
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_OFFICERS_ASSIGNED, target=deployment, deployment=deployment,
                     details={"officers": sorted(o.username for o in officers)})


def _check_officers(officers) -> list:
    officers = list(officers)
    not_officers = [o.get_username() for o in officers if not is_assignable_officer(user=o)]
    if not_officers:
        raise RuleViolation(f"only active officers can be assigned to a deployment: {', '.join(sorted(not_officers))}")
    return officers


# --- the state machine --------------------------------------------------------------------------

def _locked(deployment: Deployment, expected_version: int | None = None) -> Deployment:
    locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError(f"deployment {locked.name}")
    return locked


def _transition_log(deployment: Deployment, from_state: str, to_state: str, actor: User | None, note: str) -> None:
    DeploymentTransition.objects.create(deployment=deployment, from_state=from_state, to_state=to_state,
                                        actor=actor if getattr(actor, "is_authenticated", False) else None, note=note)


def _set_state(deployment: Deployment, to_state: str, actor: User | None, note: str = "") -> None:
    from_state = deployment.state
    deployment.state = to_state
    Deployment.objects.filter(pk=deployment.pk).update(state=to_state, updated_at=timezone.now(),
                                                       version=F("version") + 1)
    deployment.version += 1
    _transition_log(deployment, from_state, to_state, actor, note)
    deployment_id = deployment.pk
    transaction.on_commit(lambda: deployment_state_changed.send(sender=Deployment, deployment_id=deployment_id,
                                                                state=to_state))


def deployment_authorisation_problems(*, deployment: Deployment, now: dt.datetime | None = None) -> list[str]:
    """Everything that stands in the way of authorising, in words an authorising officer can act on."""
    now = now or timezone.now()
    problems = []
    if deployment.threshold < settings.DEPLOYMENT_THRESHOLD_FLOOR:
        problems.append(f"the threshold {deployment.threshold:.2f} is below the floor of "
                        f"{settings.DEPLOYMENT_THRESHOLD_FLOOR:.2f}")
    problems += _group_ratio_problems(deployment.threshold)
    if deployment.starts_at < now - START_GRACE:
        problems.append("the deployment window has already started; set a start time in the future")
    if deployment.ends_at - deployment.starts_at > dt.timedelta(hours=settings.DEPLOYMENT_MAX_HOURS):
        problems.append(f"the window is longer than the maximum of {settings.DEPLOYMENT_MAX_HOURS} hours")
    watchlist = deployment.watchlist
    if watchlist.status != Watchlist.Status.APPROVED:
        problems.append(f"the watchlist \u201c{watchlist.name}\u201d is not approved")
    elif not watchlist_review_is_current(watchlist=watchlist, max_age_days=settings.WATCHLIST_REVIEW_MAX_AGE_DAYS, now=now):
        problems.append(f"the watchlist was last reviewed more than {settings.WATCHLIST_REVIEW_MAX_AGE_DAYS} days ago")
    size = watchlist.entries.filter(subject__status=Subject.Status.ACTIVE).count()
    if size > settings.WATCHLIST_MAX_SUBJECTS:
        problems.append(f"the watchlist holds {size} subjects; the cap is {settings.WATCHLIST_MAX_SUBJECTS}")
    if size == 0:
        problems.append("the watchlist is empty")
    if not deployment.cameras.filter(enabled=True).exists():
        problems.append("no enabled camera is assigned")
    for field, label in (("necessity_statement", "the necessity and proportionality statement"),
                         ("dpia_reference", "the DPIA reference"), ("location_reason", "the reason for the location")):
        if not getattr(deployment, field).strip():
            problems.append(f"{label} is missing")
    if not deployment.signage_confirmed:
        problems.append("signage has not been confirmed")
    if not deployment.public_notice_confirmed:
        problems.append("the public notice has not been confirmed")
    return problems


def deployment_submit(*, actor: User, deployment: Deployment) -> Deployment:
    enforce(deployment_role_refusal(user=actor, action=Action.SUBMIT))
    with transaction.atomic():
        locked = _locked(deployment)
        enforce(deployment_refusal(user=actor, deployment=locked, action=Action.SUBMIT))
        locked.submitted_by = actor
        locked.save(update_fields=["submitted_by"])
        _set_state(locked, State.SUBMITTED, actor, "submitted for authorisation")
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_SUBMITTED, target=locked, deployment=locked)
    return locked


def deployment_authorise(*, actor: User, deployment: Deployment, reasons: str,
                         shown_calibration: str | None = None) -> Deployment:
    """The authorising officer's decision; freezes the watchlist into the deployment's snapshot.

    Records the expected false alert rates at the threshold for the model in use: per face image, and per
    passer-by with the per-group rates and largest ratios (walk-by calibration for the workers' device);
    ``shown_calibration`` (the key of the figures the officer's page showed) must still match them, so the
    record says what numbers were authorised, or the decision is refused (409) to be made again."""

    enforce(deployment_role_refusal(user=actor, action=Action.AUTHORISE))
    with transaction.atomic():
        locked = _locked(deployment)
        enforce(deployment_refusal(user=actor, deployment=locked, action=Action.AUTHORISE))
        if not reasons.strip():
            raise RuleViolation("record the reasons for the authorisation")
        watchlist = Watchlist.objects.select_for_update().get(pk=locked.watchlist_id)
        problems = deployment_authorisation_problems(deployment=locked)
        if problems:
            raise RuleViolation(problems)
        model_id = runtime.current_model_id()
        expected = threshold_expectation(model_id=model_id, threshold=locked.threshold)
        per_passerby = walkby_expectation(model_id=model_id, threshold=locked.threshold)
        if shown_calibration is not None and shown_calibration != shown_figures_key(expected, per_passerby):
            raise ChangedSinceShown("the expected false alert rate has changed since your page was loaded (another "
                                    "model or calibration): reload the page, read the new figure and decide again")
        snapshot = _snapshot_create(deployment=locked, watchlist=watchlist)
        DeploymentAuthorisation.objects.create(
            deployment=locked, decision=DeploymentAuthorisation.Decision.AUTHORISED, decided_by=actor,
            reasons=reasons.strip(), threshold=locked.threshold, watchlist_size=snapshot.subject_count,
            model_id=snapshot.model_id, expected_false_alerts=expected.as_record(),
            expected_per_passerby=per_passerby.as_record())
        _set_state(locked, State.AUTHORISED, actor, reasons.strip())
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_AUTHORISED, target=locked, deployment=locked,
                     details={"reasons": reasons.strip(), "threshold": locked.threshold,
                              "window": [locked.starts_at.isoformat(), locked.ends_at.isoformat()],
                              "watchlist": watchlist.pk, "watchlist_version": watchlist.version,
                              "subjects": snapshot.subject_count, "references": snapshot.reference_count,
                              "model_id": snapshot.model_id, "expected_false_alerts": expected.as_record(),
                              "expected_per_passerby": per_passerby.as_record(),
                              "child_entries": snapshot.references.filter(enrolled_as_child=True)
                              .values("subject_id").distinct().count(),
                              "child_threshold_offset": settings.CHILD_ENTRY_THRESHOLD_OFFSET,
                              "without_enrolled_image": len(snapshot.unenrolled_references),
                              "without_enrolled_image_references": snapshot.unenrolled_references[:500]})
    return locked


def _snapshot_create(*, deployment: Deployment, watchlist: Watchlist) -> WatchlistSnapshot:
    model_id = runtime.current_model_id()
    today = timezone.localdate()
    subjects = list(Subject.objects.filter(entries__watchlist=watchlist, status=Subject.Status.ACTIVE,
                                           expires_on__gt=today).order_by("pk"))
    images = ReferenceImage.objects.filter(subject__in=subjects, status=ReferenceImage.Status.ENROLLED,
                                           model_id=model_id).order_by("subject_id", "pk")
    by_subject = {s.pk: s for s in subjects}
    references = [
        _snapshot_reference(subject=by_subject[image.subject_id], image=image)
        for image in images.only("pk", "subject_id", "embedding", "capture_date", "created_at")
    ]
    if not references:
        raise RuleViolation(f"no subject on the watchlist has an image enrolled with the current model ({model_id})")
    frozen = {r.subject_id for r in references}
    snapshot = WatchlistSnapshot.objects.create(
        deployment=deployment, watchlist_version=watchlist.version, subject_count=len(frozen),
        reference_count=len(references), model_id=model_id,
        unenrolled_references=[s.reference for s in subjects if s.pk not in frozen])
    for reference in references:
        reference.snapshot = snapshot
    SnapshotReference.objects.bulk_create(references, batch_size=500)
    ManifestEntry.objects.bulk_create(
        [ManifestEntry(deployment=deployment, subject_id=s.pk, subject_reference=s.reference, name=s.name,
                       category=s.category, reason=s.reason) for s in subjects], batch_size=1000)
    return snapshot


def _snapshot_reference(*, subject: Subject, image: ReferenceImage) -> SnapshotReference:
    return SnapshotReference(
        subject_id=subject.pk, subject_reference=subject.reference, name=subject.name, category=subject.category,
        reason=subject.reason, priority=subject.priority, reference_image_id=image.pk, embedding=image.embedding,
        threshold_offset=reference_threshold_offset(subject=subject, image=image),
        enrolled_as_child=reference_enrolled_as_child(subject=subject, image=image),
        image_taken_on=image.capture_date, warning_markers=list(subject.warning_markers),
        engagement_instructions=subject.engagement_instructions)


def deployment_reject(*, actor: User, deployment: Deployment, reasons: str) -> Deployment:
    enforce(deployment_role_refusal(user=actor, action=Action.REJECT))
    if not reasons.strip():
        raise RuleViolation("record the reasons for the rejection")
    with transaction.atomic():
        locked = _locked(deployment)
        enforce(deployment_refusal(user=actor, deployment=locked, action=Action.REJECT))
        DeploymentAuthorisation.objects.create(
            deployment=locked, decision=DeploymentAuthorisation.Decision.REJECTED, decided_by=actor,
            reasons=reasons.strip(), threshold=locked.threshold,
            watchlist_size=locked.watchlist.entries.count())
        _set_state(locked, State.REJECTED, actor, reasons.strip())
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_REJECTED, target=locked, deployment=locked,
                     details={"reasons": reasons.strip()})
    return locked


def deployment_go_live(*, deployment: Deployment, now: dt.datetime | None = None) -> Deployment:
    """Beat: an authorised deployment goes live when its window opens."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(deployment)
        if locked.state != State.AUTHORISED:
            raise RuleViolation("only an authorised deployment can go live")
        if not locked.starts_at <= now < locked.ends_at:
            raise RuleViolation("outside the authorised window")
        locked.went_live_at = now
        locked.save(update_fields=["went_live_at"])
        _set_state(locked, State.LIVE, None, "window opened")
        audit_record(actor=None, action=AuditAction.DEPLOYMENT_LIVE, target=locked, deployment=locked)
    return locked


def deployment_complete(*, deployment: Deployment, now: dt.datetime | None = None) -> Deployment:
    """Beat: a live (or never started) deployment ends when its window closes."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(deployment)
        if locked.state not in (State.LIVE, State.AUTHORISED):
            raise RuleViolation("only a live or authorised deployment can complete")
        if now < locked.ends_at:
            raise RuleViolation("the window has not closed yet")
        locked.ended_at = now
        locked.save(update_fields=["ended_at"])
        _set_state(locked, State.COMPLETED, None, "window closed")
        audit_record(actor=None, action=AuditAction.DEPLOYMENT_COMPLETED, target=locked, deployment=locked)
    return locked


def deployment_stop(*, actor: User, deployment: Deployment, reason: str) -> Deployment:
    """The kill switch: workers stop reading frames within seconds of this commit."""
    enforce(deployment_role_refusal(user=actor, action=Action.STOP))
    with transaction.atomic():
        locked = _locked(deployment)
        enforce(deployment_refusal(user=actor, deployment=locked, action=Action.STOP))
        locked.ended_at = timezone.now()
        locked.save(update_fields=["ended_at"])
        _set_state(locked, State.STOPPED, actor, reason.strip() or "stopped")
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_STOPPED, target=locked, deployment=locked,
                     details={"reason": reason.strip()})
    return locked


def deployment_cancel(*, actor: User, deployment: Deployment, reason: str) -> Deployment:
    with transaction.atomic():
        locked = _locked(deployment)
        enforce(deployment_refusal(user=actor, deployment=locked, action=Action.CANCEL))
        locked.ended_at = timezone.now()
        locked.save(update_fields=["ended_at"])
        _set_state(locked, State.CANCELLED, actor, reason.strip() or "cancelled")
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_CANCELLED, target=locked, deployment=locked,
                     details={"reason": reason.strip()})
    return locked


def deployments_tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Beat, every few seconds: open and close windows."""
    now = now or timezone.now()
    started = completed = 0
    for deployment in Deployment.objects.filter(state=State.AUTHORISED, starts_at__lte=now, ends_at__gt=now):
        deployment_go_live(deployment=deployment, now=now)
        started += 1
    for deployment in Deployment.objects.filter(state__in=[State.LIVE, State.AUTHORISED], ends_at__lte=now):
        deployment_complete(deployment=deployment, now=now)
        completed += 1
    return {"started": started, "completed": completed}


# --- retention and the record afterwards ---------------------------------------------------------

def snapshots_delete_biometrics(*, now: dt.datetime | None = None) -> int:
    """Beat: delete ended deployments' frozen embeddings (well within 24 h); the manifest stays."""
    now = now or timezone.now()
    deleted = 0
    due = WatchlistSnapshot.objects.filter(deployment__state__in=ENDED_STATES, biometrics_deleted_at__isnull=True)
    for snapshot in due.select_related("deployment"):
        with transaction.atomic():
            count, _ = SnapshotReference.objects.filter(snapshot=snapshot).delete()
            snapshot.biometrics_deleted_at = now
            snapshot.save(update_fields=["biometrics_deleted_at"])
            audit_record(actor=None, action=AuditAction.SNAPSHOT_BIOMETRICS_DELETED, target=snapshot,
                         deployment=snapshot.deployment, details={"references_deleted": count,
                                                                  "ended_at": snapshot.deployment.ended_at.isoformat()
                                                                  if snapshot.deployment.ended_at else None})
        deleted += 1
    return deleted


def post_deployment_record_save(*, actor: User, deployment: Deployment, outcomes: str, engagements: int = 0,
                                arrests: int = 0) -> PostDeploymentRecord:
    enforce(deployment_refusal(user=actor, deployment=deployment, action=Action.WRITE_POST_RECORD))
    if engagements < 0 or arrests < 0:
        raise RuleViolation("counts cannot be negative")
    with transaction.atomic():
        record, _ = PostDeploymentRecord.objects.update_or_create(
            deployment=deployment, defaults={"written_by": actor, "outcomes": outcomes.strip(),
                                             "engagements": engagements, "arrests": arrests})
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_POST_RECORD_SAVED, target=deployment, deployment=deployment,
                     details={"engagements": engagements, "arrests": arrests})
    return record
