"""Cameras and deployments: the state machine, authorisation with its frozen snapshot, schedules, retention."""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.permissions import require_any_capability
from audit.actions import AuditAction
from audit.services import audit_record
from core.errors import ChangedSinceShown, ConcurrentEditError, RuleViolation
from core.policy import enforce
from deployments.camera_sources import camera_source_policy, camera_sources_help
from deployments.documents import document_problem, too_large_message, uploaded_size
from deployments.models import (
    Camera,
    Deployment,
    DeploymentAuthorisation,
    DeploymentDocument,
    DeploymentTransition,
    DocumentKind,
    ManifestEntry,
    PostDeploymentRecord,
    Purpose,
    SnapshotReference,
    UrgentUse,
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
    urgent_use_of,
)
from deployments.selectors import current_documents, documents_key
from deployments.signals import deployment_outputs_discard, deployment_state_changed
from recognition import runtime  # runtime.current_model_id(), looked up at each call (tests replace it)
from recognition.calibration import group_ratio_problems, shown_figures_key, threshold_expectation, walkby_expectation
from recognition.ml.models import ModelFileError
from recognition.source_urls import redact_url
from recognition.sources import SourceRefused, UnknownSourceScheme, source_validate
from watchlists.ages import reference_enrolled_as_child, reference_threshold_offset
from watchlists.models import ReferenceImage, Subject, Watchlist
from watchlists.selectors import watchlist_review_is_current
from watchlists.storage import protected_delete, protected_read_for_person, protected_save_stream

if TYPE_CHECKING:
    from typing import BinaryIO

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


def deployment_authorisation_problems(*, deployment: Deployment, now: dt.datetime | None = None,
                                      urgent: str = "") -> list[str]:
    """Everything that stands in the way of authorising, in words an authorising officer can act on.

    ``urgent``: "start" for an urgent start (the window opens now; the documents may follow), "authorise" for
    the authorisation after the fact of an urgent use already live (its window has started)."""
    now = now or timezone.now()
    problems = []
    if deployment.threshold < settings.DEPLOYMENT_THRESHOLD_FLOOR:
        problems.append(f"the threshold {deployment.threshold:.2f} is below the floor of "
                        f"{settings.DEPLOYMENT_THRESHOLD_FLOOR:.2f}")
    problems += _group_ratio_problems(deployment.threshold)
    if not urgent and deployment.starts_at < now - START_GRACE:
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
    if urgent != "start":
        documents = current_documents(deployment=deployment)
        problems += [f"no {kind.label[0].lower()}{kind.label[1:]} has been uploaded (a PDF, under Documents)"
                     for kind in DocumentKind if kind not in documents]
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
                         shown_calibration: str | None = None, shown_documents: str | None = None) -> Deployment:
    """The authorising officer's decision; freezes the watchlist into the deployment's snapshot.

    Records the expected false alert rates at the threshold for the model in use: per face image, and per
    passer-by with the per-group rates and largest ratios (walk-by calibration for the workers' device);
    ``shown_calibration`` (the key of the figures the officer's page showed) must still match them, so the
    record says what numbers were authorised, or the decision is refused (409) to be made again. The same for
    ``shown_documents`` (documents_key of the versions the page listed): the record names the versions authorised."""

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
        documents = _documents_as_shown(deployment=locked, shown_documents=shown_documents)
        snapshot = _snapshot_create(deployment=locked, watchlist=watchlist)
        DeploymentAuthorisation.objects.create(
            deployment=locked, decision=DeploymentAuthorisation.Decision.AUTHORISED, decided_by=actor,
            reasons=reasons.strip(), threshold=locked.threshold, watchlist_size=snapshot.subject_count,
            model_id=snapshot.model_id, expected_false_alerts=expected.as_record(),
            expected_per_passerby=per_passerby.as_record(), documents=documents)
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
                              "without_enrolled_image_references": snapshot.unenrolled_references[:500],
                              "documents": documents})
    return locked


def _documents_as_shown(*, deployment: Deployment, shown_documents: str | None) -> list[dict]:
    """The current version of each document, as records; refused (409) when the page showed others."""
    documents = current_documents(deployment=deployment)
    if shown_documents is not None and shown_documents != documents_key(documents):
        raise ChangedSinceShown("a document was uploaded since your page was loaded: reload the page, read the "
                                "current versions and decide again")
    return [documents[kind].as_record() for kind in DocumentKind if kind in documents]


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
    """Beat, every few seconds: open and close windows; stop and delete an urgent use not authorised in time."""
    now = now or timezone.now()
    started = completed = expired = 0
    for urgent in UrgentUse.objects.filter(outcome=UrgentUse.Outcome.PENDING, authorise_by__lte=now):
        deployment_urgent_expire(deployment=urgent.deployment, now=now)
        expired += 1
    for deployment in Deployment.objects.filter(state=State.AUTHORISED, starts_at__lte=now, ends_at__gt=now):
        deployment_go_live(deployment=deployment, now=now)
        started += 1
    for deployment in Deployment.objects.filter(state__in=[State.LIVE, State.AUTHORISED], ends_at__lte=now):
        deployment_complete(deployment=deployment, now=now)
        completed += 1
    return {"started": started, "completed": completed, "urgent_expired": expired}


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


# --- documents: the DPIA, the equality impact assessment, the appropriate policy document -------------

def deployment_document_upload(*, actor: User, deployment: Deployment, kind: str, file: BinaryIO,
                               original_name: str) -> DeploymentDocument:
    """A new version of one of the documents the authorisation rests on (a binary file object, on disk, read in
    chunks): a readable PDF within DEPLOYMENT_DOCUMENT_MAX_BYTES, stored under the protected root."""
    enforce(deployment_role_refusal(user=actor, action=Action.UPLOAD_DOCUMENT))
    enforce(deployment_refusal(user=actor, deployment=deployment, action=Action.UPLOAD_DOCUMENT))
    if kind not in DocumentKind.values:
        raise RuleViolation(f"the kind of document must be one of: {', '.join(DocumentKind.values)}")
    size = uploaded_size(file)
    if size > settings.DEPLOYMENT_DOCUMENT_MAX_BYTES:
        raise RuleViolation(too_large_message(size))
    if size == 0:
        raise RuleViolation("the file is empty")
    problem = document_problem(file)
    if problem:
        raise RuleViolation(problem)
    original = os.path.basename(original_name.replace("\\", "/")).strip()[:255] or "document.pdf"
    name, sha256 = protected_save_stream(source=file, folder=f"deployment_documents/{deployment.pk}", suffix=".pdf")
    try:
        with transaction.atomic():
            locked = _locked(deployment)
            enforce(deployment_refusal(user=actor, deployment=locked, action=Action.UPLOAD_DOCUMENT))
            latest = DeploymentDocument.objects.filter(deployment=locked, kind=kind).aggregate(v=Max("version"))["v"]
            document = DeploymentDocument.objects.create(
                deployment=locked, kind=kind, version=(latest or 0) + 1, file_name=name, sha256=sha256, size=size,
                original_name=original, uploaded_by=actor)
            audit_record(actor=actor, action=AuditAction.DEPLOYMENT_DOCUMENT_UPLOADED, target=document,
                         deployment=locked, details={"kind": kind, "version": document.version, "sha256": sha256,
                                                     "size": size, "original_name": original})
    except BaseException:
        protected_delete(name)
        raise
    return document


def deployment_document_read(*, actor: User, document: DeploymentDocument) -> bytes:
    """The PDF's bytes, for whoever may see the deployment's documents; audited, a missing file too (then Gone)."""
    enforce(deployment_refusal(user=actor, deployment=document.deployment, action=Action.VIEW_DOCUMENTS))

    def audit(outcome: dict) -> None:
        with transaction.atomic():
            audit_record(actor=actor, action=AuditAction.DEPLOYMENT_DOCUMENT_VIEWED, target=document,
                         deployment=document.deployment_id,
                         details={"kind": document.kind, "version": document.version, "sha256": document.sha256,
                                  **outcome})

    return protected_read_for_person(document.file_name, what=f"the file of {document.get_kind_display()} version "
                                     f"{document.version}", audit=audit)


# --- urgent use (EU AI Act Art. 5(3)) ----------------------------------------------------------------

def _person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}


def _urgent_notification(urgent: UrgentUse) -> dict:
    """The record for the market-surveillance and data-protection authorities (Art. 5(4)): who, when, where,
    why, and the outcome."""
    deployment = urgent.deployment
    snapshot = WatchlistSnapshot.objects.filter(deployment=deployment).first()
    return {
        "notice": "Use of real-time remote biometric identification without prior authorisation in a duly "
                  "justified urgency (EU AI Act Art. 5(3)); notification under Art. 5(4)",
        "to": ["the market surveillance authority", "the national data protection authority"],
        "deployment": {"id": deployment.pk, "name": deployment.name, "purpose": deployment.get_purpose_display(),
                       "location": deployment.location, "location_reason": deployment.location_reason,
                       "cameras": [{"name": c.name, "location": c.location} for c in deployment.cameras.order_by("pk")],
                       "window": [deployment.starts_at.isoformat(), deployment.ends_at.isoformat()],
                       "threshold": deployment.threshold,
                       "watchlist": {"id": deployment.watchlist_id, "name": deployment.watchlist.name,
                                     "subjects": snapshot.subject_count if snapshot else None,
                                     "model_id": snapshot.model_id if snapshot else None},
                       "necessity_statement": deployment.necessity_statement},
        "started_by": _person(urgent.started_by), "started_at": urgent.started_at.isoformat(),
        "justification": urgent.justification, "authorise_by": urgent.authorise_by.isoformat(),
        "outcome": urgent.outcome, "outcome_label": urgent.get_outcome_display(),
        "decided_by": _person(urgent.decided_by),
        "decided_at": urgent.decided_at.isoformat() if urgent.decided_at else None,
        "decision_reasons": urgent.decision_reasons,
        "data_deleted_at": urgent.data_deleted_at.isoformat() if urgent.data_deleted_at else None,
        "deleted": {"alerts": urgent.alerts_deleted, "images": urgent.images_deleted,
                    "reference_embeddings": urgent.references_deleted} if urgent.data_deleted_at else None,
    }


def _urgent_notification_save(urgent: UrgentUse) -> None:
    urgent.notification = _urgent_notification(urgent)
    urgent.save()


def deployment_urgent_start(*, actor: User, deployment: Deployment, justification: str,
                            now: dt.datetime | None = None) -> Deployment:
    """Live now, without prior authorisation, in a recorded urgency: the watchlist is frozen as authorisation
    freezes it, the window opens now, and another authorising officer must authorise it within
    DEPLOYMENT_URGENT_AUTHORISE_HOURS (the documents may follow)."""
    now = now or timezone.now()
    enforce(deployment_role_refusal(user=actor, action=Action.START_URGENT))
    if not justification.strip():
        raise RuleViolation("record why the urgency did not allow the deployment to be authorised first")
    with transaction.atomic():
        locked = _locked(deployment)
        enforce(deployment_refusal(user=actor, deployment=locked, action=Action.START_URGENT))
        if locked.ends_at <= now:
            raise RuleViolation("the deployment's window has already closed")
        watchlist = Watchlist.objects.select_for_update().get(pk=locked.watchlist_id)
        planned_start = locked.starts_at
        locked.starts_at = now
        problems = deployment_authorisation_problems(deployment=locked, now=now, urgent="start")
        if problems:
            raise RuleViolation(problems)
        snapshot = _snapshot_create(deployment=locked, watchlist=watchlist)
        locked.went_live_at = now
        locked.save(update_fields=["starts_at", "went_live_at"])
        urgent = UrgentUse.objects.create(
            deployment=locked, started_by=actor, started_at=now, justification=justification.strip(),
            authorise_by=now + dt.timedelta(hours=settings.DEPLOYMENT_URGENT_AUTHORISE_HOURS))
        _urgent_notification_save(urgent)
        _set_state(locked, State.LIVE, actor, f"urgent use without prior authorisation: {justification.strip()}")
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_URGENT_STARTED, target=locked, deployment=locked,
                     details={"justification": justification.strip(), "authorise_by": urgent.authorise_by.isoformat(),
                              "planned_start": planned_start.isoformat(), "threshold": locked.threshold,
                              "watchlist": watchlist.pk, "watchlist_version": watchlist.version,
                              "subjects": snapshot.subject_count, "references": snapshot.reference_count,
                              "model_id": snapshot.model_id})
    return locked


def _urgent_locked(*, actor: User, deployment: Deployment) -> tuple[Deployment, UrgentUse]:
    locked = _locked(deployment)
    enforce(deployment_refusal(user=actor, deployment=locked, action=Action.DECIDE_URGENT))
    urgent = UrgentUse.objects.select_for_update().get(deployment=locked)
    return locked, urgent


def deployment_urgent_authorise(*, actor: User, deployment: Deployment, reasons: str,
                                now: dt.datetime | None = None, shown_calibration: str | None = None,
                                shown_documents: str | None = None) -> Deployment:
    """The authorisation after the fact, within the deadline, by someone other than who started it: the same
    checklist (documents included) and the same record as a prior authorisation. The deployment runs on."""
    now = now or timezone.now()
    enforce(deployment_role_refusal(user=actor, action=Action.DECIDE_URGENT))
    if not reasons.strip():
        raise RuleViolation("record the reasons for the authorisation")
    with transaction.atomic():
        locked, urgent = _urgent_locked(actor=actor, deployment=deployment)
        if now > urgent.authorise_by:
            raise RuleViolation(f"the deadline for authorising this urgent use passed at "
                                f"{timezone.localtime(urgent.authorise_by):%d %b %Y %H:%M}; it is stopped and its "
                                f"alerts are deleted")
        problems = deployment_authorisation_problems(deployment=locked, now=now, urgent="authorise")
        if problems:
            raise RuleViolation(problems)
        snapshot = WatchlistSnapshot.objects.get(deployment=locked)
        expected = threshold_expectation(model_id=snapshot.model_id, threshold=locked.threshold)
        per_passerby = walkby_expectation(model_id=snapshot.model_id, threshold=locked.threshold)
        if shown_calibration is not None and shown_calibration != shown_figures_key(expected, per_passerby):
            raise ChangedSinceShown("the expected false alert rate has changed since your page was loaded: reload "
                                    "the page, read the new figure and decide again")
        documents = _documents_as_shown(deployment=locked, shown_documents=shown_documents)
        DeploymentAuthorisation.objects.create(
            deployment=locked, decision=DeploymentAuthorisation.Decision.AUTHORISED, decided_by=actor,
            reasons=reasons.strip(), threshold=locked.threshold, watchlist_size=snapshot.subject_count,
            model_id=snapshot.model_id, expected_false_alerts=expected.as_record(),
            expected_per_passerby=per_passerby.as_record(), documents=documents)
        urgent.outcome, urgent.decided_by, urgent.decided_at = UrgentUse.Outcome.AUTHORISED, actor, now
        urgent.decision_reasons = reasons.strip()
        _urgent_notification_save(urgent)
        _transition_log(locked, locked.state, locked.state, actor, f"urgent use authorised: {reasons.strip()}")
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_URGENT_AUTHORISED, target=locked, deployment=locked,
                     details={"reasons": reasons.strip(), "started_by": urgent.started_by_id,
                              "started_at": urgent.started_at.isoformat(), "documents": documents,
                              "expected_false_alerts": expected.as_record(),
                              "expected_per_passerby": per_passerby.as_record()})
    return locked


def deployment_urgent_refuse(*, actor: User, deployment: Deployment, reasons: str,
                             now: dt.datetime | None = None) -> Deployment:
    """Authorisation refused: the deployment stops at once and its alerts, their images and the snapshot's
    embeddings are deleted (Art. 5(3))."""
    now = now or timezone.now()
    enforce(deployment_role_refusal(user=actor, action=Action.DECIDE_URGENT))
    if not reasons.strip():
        raise RuleViolation("record the reasons for refusing the authorisation")
    with transaction.atomic():
        locked, urgent = _urgent_locked(actor=actor, deployment=deployment)
        DeploymentAuthorisation.objects.create(
            deployment=locked, decision=DeploymentAuthorisation.Decision.REJECTED, decided_by=actor,
            reasons=reasons.strip(), threshold=locked.threshold, watchlist_size=locked.manifest.count())
        _urgent_end(locked, urgent, outcome=UrgentUse.Outcome.REFUSED, actor=actor, reasons=reasons.strip(), now=now)
    return locked


def deployment_urgent_expire(*, deployment: Deployment, now: dt.datetime | None = None) -> Deployment:
    """Beat: an urgent use not authorised by its deadline stops and its outputs are deleted, as if refused."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(deployment)
        urgent = UrgentUse.objects.select_for_update().get(deployment=locked)
        if urgent.outcome != UrgentUse.Outcome.PENDING:
            raise RuleViolation("this urgent use has already been decided")
        if now < urgent.authorise_by:
            raise RuleViolation("the deadline for authorising this urgent use has not passed")
        _urgent_end(locked, urgent, outcome=UrgentUse.Outcome.EXPIRED, actor=None,
                    reasons=f"not authorised within {settings.DEPLOYMENT_URGENT_AUTHORISE_HOURS} hours", now=now)
    return locked


def _urgent_end(deployment: Deployment, urgent: UrgentUse, *, outcome: str, actor: User | None, reasons: str,
                now: dt.datetime) -> None:
    """Stop it (when live), delete its alerts and images (the alerts app, through deployment_outputs_discard)
    and the snapshot's embeddings, and record what was deleted. The manifest (who was on the watchlist, no
    biometric data) and the audit trail stay: they are the record of the use."""
    label = "refused" if outcome == UrgentUse.Outcome.REFUSED else "not authorised in time"
    if deployment.state == State.LIVE:
        deployment.ended_at = now
        deployment.save(update_fields=["ended_at"])
        _set_state(deployment, State.STOPPED, actor, f"urgent use {label}: {reasons}")
    answers = deployment_outputs_discard.send(sender=Deployment, deployment_id=deployment.pk, actor=actor,
                                              reason=f"urgent use {label}: {reasons}")
    if not answers:
        raise RuntimeError("nothing is connected to deployment_outputs_discard: the alerts would not be deleted")
    counts = [cast(dict, answer) for _, answer in answers if isinstance(answer, dict)]
    alerts = sum(answer.get("alerts", 0) for answer in counts)
    images = sum(answer.get("images", 0) for answer in counts)
    references, _ = SnapshotReference.objects.filter(snapshot__deployment=deployment).delete()
    WatchlistSnapshot.objects.filter(deployment=deployment, biometrics_deleted_at__isnull=True).update(
        biometrics_deleted_at=now)
    urgent.outcome, urgent.decided_at, urgent.decision_reasons = outcome, now, reasons
    urgent.decided_by = actor
    urgent.data_deleted_at, urgent.alerts_deleted, urgent.images_deleted = now, alerts, images
    urgent.references_deleted = references
    _urgent_notification_save(urgent)
    refused = outcome == UrgentUse.Outcome.REFUSED
    audit_record(actor=actor, target=deployment, deployment=deployment,
                 action=AuditAction.DEPLOYMENT_URGENT_REFUSED if refused else AuditAction.DEPLOYMENT_URGENT_EXPIRED,
                 details={"reasons": reasons, "started_by": urgent.started_by_id,
                          "started_at": urgent.started_at.isoformat(), "authorise_by": urgent.authorise_by.isoformat(),
                          "alerts_deleted": alerts, "images_deleted": images, "reference_embeddings_deleted": references})


def urgent_notification_read(*, actor: User, deployment: Deployment) -> dict:
    """The Art. 5(4) notification record, for authorising officers and oversight; every read is audited."""
    enforce(deployment_refusal(user=actor, deployment=deployment, action=Action.VIEW_URGENT_NOTIFICATION))
    urgent = urgent_use_of(deployment)
    assert urgent is not None  # the policy refuses a deployment without one
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_URGENT_NOTIFICATION_VIEWED, target=deployment,
                     deployment=deployment, details={"outcome": urgent.outcome})
    return urgent.notification
