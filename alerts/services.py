"""Alerts: created by the live pipeline, decided by officers, kept only as long as policy allows."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from accounts.permissions import require_capability
from alerts import history
from alerts.alert_spool import HeldEntry, spool_drain
from alerts.broadcast import broadcast_alert_on_commit
from alerts.demographics import DEMOGRAPHIC_FIELDS, demographics_clean
from alerts.models import Adjudication, Alert, AlertRecord, Decision, EngagementResult, TestWalk
from alerts.policies import TEST_WALK_REFUSED, adjudication_amend_policy, test_walk_policy
from alerts.spool import alert_spool, spooled_reference_fields
from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import ConcurrentEditError, Gone, PermissionDenied, RuleViolation
from core.images import face_crop
from core.policy import enforce
from deployments.models import Camera, Deployment, ManifestEntry, SnapshotReference
from watchlists.models import InclusionCategory, ReferenceImage, Subject
from watchlists.quality_words import face_box
from watchlists.storage import (
    PENDING_SUFFIX,
    protected_delete,
    protected_exists,
    protected_files,
    protected_pending_commit,
    protected_pending_discard,
    protected_read_for_person,
    protected_save_pending,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

DECIDED: dict[str, str] = {Decision.CONFIRMED: Alert.Status.CONFIRMED, Decision.NOT_A_MATCH: Alert.Status.NOT_A_MATCH,
                           Decision.CANNOT_TELL: Alert.Status.CANNOT_TELL}
MAX_STOP_MINUTES = 600


def alert_create(*, deployment_id: int, camera_id: int, snapshot_reference, score: float, threshold: float,
                 model_id: str, track_id: int, frame_time: dt.datetime, probe_jpeg: bytes,
                 run_token: str = "") -> Alert:
    """Called for a track whose evidence passed the threshold (system actor). Idempotent for a worker run's
    match: the same (deployment, camera, run_token, track, subject) returns the alert already made.

    The crop is written under a temporary name before the transaction and renamed to the name the alert
    holds after commit; a writer killed in between leaves a pending file for `alert_files_sweep`. The
    broadcast follows the rename; it may fail (Redis down) without touching the committed alert.
    """
    if Deployment.objects.filter(pk=deployment_id, urgent_use__data_deleted_at__isnull=False).exists():
        raise RuleViolation("this deployment's urgent use was refused and its outputs deleted: no alert is kept")
    name = protected_save_pending(data=probe_jpeg, folder=f"alerts/{deployment_id}", suffix=".jpg")
    try:
        with transaction.atomic():
            alert, created = _alert_get_or_create(
                deployment_id=deployment_id, camera_id=camera_id, reference=snapshot_reference, score=score,
                threshold=threshold, model_id=model_id, track_id=track_id, frame_time=frame_time,
                run_token=run_token, probe_file=name)
            if created:
                test = alert.category == InclusionCategory.TEST_SUBJECT
                AlertRecord.objects.create(alert=alert, deployment_id=deployment_id, camera_id=camera_id,
                                           raised_at=alert.created_at, category=alert.category,
                                           test_subject_id=alert.subject_id if test else None)
                audit_record(actor=None, action=AuditAction.ALERT_CREATED, target=alert, deployment=deployment_id, details={
                    "subject": alert.subject_reference, "score": alert.score, "threshold": threshold,
                    "camera": camera_id, "model_id": model_id, **({"test": True} if test else {})})
                transaction.on_commit(lambda: protected_pending_commit(name))
                broadcast_alert_on_commit(alert_id=alert.pk, event="alert.created")
            elif not protected_exists(alert.probe_file):
                # Delivered before by a worker killed after commit and before its rename: restore the crop.
                transaction.on_commit(lambda: protected_pending_commit(name, as_name=alert.probe_file))
            else:
                transaction.on_commit(lambda: protected_pending_discard(name))
    except BaseException:
        protected_pending_discard(name)
        raise
    return alert


def _alert_get_or_create(*, deployment_id: int, camera_id: int, reference, score: float, threshold: float,
                         model_id: str, track_id: int, frame_time: dt.datetime, run_token: str,
                         probe_file: str) -> tuple[Alert, bool]:
    fields = {
        "frame_time": frame_time, "subject_reference": reference.subject_reference, "subject_name": reference.name,
        "category": reference.category, "reason": reference.reason, "priority": reference.priority,
        "reference_image_id": reference.reference_image_id, "image_taken_on": reference.image_taken_on,
        "warning_markers": list(reference.warning_markers), "engagement_instructions": reference.engagement_instructions,
        "score": round(float(score), 4), "threshold": threshold,
        "model_id": model_id, "probe_file": probe_file}
    key = {"deployment_id": deployment_id, "camera_id": camera_id, "track_id": track_id,
           "subject_id": reference.subject_id, "run_token": run_token}
    if not run_token:
        return Alert.objects.create(**key, **fields), True
    # get_or_create inserts in a savepoint and, on the unique constraint's conflict with a concurrent
    # delivery, reads the winner's row.
    return Alert.objects.get_or_create(**key, defaults=fields)


def alert_deliver(*, held: HeldEntry) -> Alert:
    """Write one spooled match to PostgreSQL (system actor) and remove its spool entry after commit.

    Safe to repeat: an entry delivered before (its removal lost to a crash) finds its alert by the delivery
    key. Raises while the database is unavailable; the entry then stays for the drainer."""
    entry = held.read()
    meta = entry.meta
    alert = alert_create(
        deployment_id=meta["deployment_id"], camera_id=meta["camera_id"],
        snapshot_reference=SnapshotReference(**spooled_reference_fields(meta["subject"])), score=meta["score"],
        threshold=meta["threshold"], model_id=meta["model_id"], track_id=meta["track_id"],
        frame_time=dt.datetime.fromisoformat(meta["frame_time"]), probe_jpeg=entry.jpeg,
        run_token=meta["run_token"])
    transaction.on_commit(held.remove)
    return alert


def alerts_spool_drain() -> dict:
    """Beat, and every camera worker as it starts: deliver what this host's spool holds that no running
    worker is delivering (a killed worker's matches, or ones spooled while the database was down)."""
    result = spool_drain(alert_spool(), lambda held: alert_deliver(held=held),
                         transient=delivery_failure_is_transient)
    if result.delivered or result.failed or result.undeliverable:
        logger.info("alert spool drained: %s", result)
    return {"delivered": result.delivered, "failed": result.failed, "held_elsewhere": result.held_elsewhere,
            "undeliverable": result.undeliverable}


def delivery_failure_is_transient(exc: Exception) -> bool:
    """The database unreachable or gone away: worth retrying. Anything else (a deployment that does not
    exist, a malformed entry) will fail the same way every time."""
    return isinstance(exc, (OperationalError, InterfaceError))


def alert_files_sweep(*, now: dt.datetime | None = None) -> dict:
    """Beat: remove alert crops no alert names, once older than ALERT_ORPHAN_GRACE_SECONDS, pending crops of
    killed writers, stale spool temporaries, and spool entries older than ALERT_RETENTION_DAYS. Audited with
    counts only (`alert.files_swept`).

    The grace period covers a delivery in flight: its crop is pending (or just renamed) before its alert is
    visible to this transaction."""
    now = now or timezone.now()
    cutoff = (now - dt.timedelta(seconds=settings.ALERT_ORPHAN_GRACE_SECONDS)).timestamp()
    by_deployment: dict[int, list[str]] = {}
    for name, mtime in protected_files("alerts"):
        folder = name.split("/")[1]
        if mtime < cutoff and folder.isdigit():  # alerts/<deployment id>/<crop>: nothing else is ours to sweep
            by_deployment.setdefault(int(folder), []).append(name)
    removed_orphans = removed_pending = 0
    for deployment_id, names in by_deployment.items():
        referenced = set(Alert.objects.filter(deployment_id=deployment_id).values_list("probe_file", flat=True))
        for name in names:
            if name.endswith(PENDING_SUFFIX):
                removed_pending += protected_delete(name)
            elif name not in referenced:
                removed_orphans += protected_delete(name)
    spool = alert_spool()
    temporaries = spool.stale_temporaries(before=cutoff)
    for path in temporaries:
        path.unlink(missing_ok=True)
    counts = {"unreferenced_crops": removed_orphans, "pending_crops": removed_pending,
              "spool_temporaries": len(temporaries),
              "expired_spool_entries": _spool_entries_expire(spool=spool, now=now)}
    if any(counts.values()):
        with transaction.atomic():
            audit_record(actor=None, action=AuditAction.ALERT_FILES_SWEPT, details=counts)
        logger.warning("alert files swept: %s", counts)
    return counts


def _spool_entries_expire(*, spool, now: dt.datetime) -> int:
    """An entry never delivered (refused for good) goes once an alert of its age would have been purged:
    no face outlives its retention period, delivered or not."""
    before = (now - dt.timedelta(days=settings.ALERT_RETENTION_DAYS)).timestamp()
    expired = 0
    for path in spool.paths():
        try:
            if path.stat().st_mtime >= before:
                continue
        except FileNotFoundError:
            continue
        held = spool.hold(path)
        if held is not None:
            held.remove()
            expired += 1
    return expired


VIEW_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
VIEW_LASTS = dt.timedelta(hours=12)  # a live page open longer than a shift records its view again
CROPS = ("face",)


def alert_image_read(*, actor: User, alert: Alert, image: str, view: str = "", crop: str = "") -> bytes:
    """The camera's crop ("probe") or the watchlist image beside it ("reference"), for whoever may see the
    alert (checked by the caller's access_alert); ``crop="face"``: the watchlist image cut around the face
    box enrolment stored (the whole image when it stored none).

    Audited `alert.viewed`, a missing file too (then Gone). ``view``: the id the live page makes once per
    load; the images one card view fetches (both faces, an enlargement) are one event, the first; a read
    without a view is an event of its own."""
    if crop and crop not in CROPS:
        raise RuleViolation(f"crop must be one of: {', '.join(CROPS)}")
    if crop and image != "reference":
        raise RuleViolation("only the watchlist image is cropped to the face")
    if view and not VIEW_ID.fullmatch(view):
        raise RuleViolation("view must be the page's view id: 8 to 64 letters, digits or dashes")
    box = None
    if image == "probe":
        name, what = alert.probe_file, f"the camera image of alert {alert.pk}"
    elif image == "reference":
        reference = None if alert.reference_image_id is None else ReferenceImage.objects.filter(
            pk=alert.reference_image_id).exclude(status=ReferenceImage.Status.PURGED).first()
        if reference is None:
            raise Gone("the watchlist image has since been purged")
        name, what = reference.file_name, f"the watchlist image of alert {alert.pk}"
        box = face_box(reference.quality or {}) if crop else None
    else:
        raise ValueError(f"no such alert image: {image!r}")

    def audit(outcome: dict) -> None:
        with transaction.atomic():
            if view and not outcome and _view_recorded(actor=actor, alert=alert, view=view):
                return
            audit_record(actor=actor, action=AuditAction.ALERT_VIEWED, target=alert, deployment=alert.deployment_id,
                         details={"image": image, **({"view": view} if view else {}),
                                  **({"crop": crop} if crop else {}), **outcome})

    data = protected_read_for_person(name, what=what, audit=audit)
    return face_crop(data, box) if crop else data


def _view_recorded(*, actor: User, alert: Alert, view: str) -> bool:
    # The card's images arrive together: the alert's row lock makes the second wait for the first's event.
    Alert.objects.select_for_update().filter(pk=alert.pk).values("pk").first()
    return AuditEvent.objects.filter(
        action=AuditAction.ALERT_VIEWED, target_type="alerts.alert", target_id=str(alert.pk), actor=actor,
        details__view=view, occurred_at__gte=timezone.now() - VIEW_LASTS).exists()


def _stage_two_clean(*, engaged, identity_confirmed, stop_minutes, result: str,
                     notes: str) -> tuple[bool, bool | None, int | None, str]:
    """The rules of an engagement: a result only when engaged (but "could not locate", which means not
    engaged); "other" needs a note; a stop of a person whose identity was not confirmed needs its minutes."""
    if not isinstance(engaged, bool):
        raise RuleViolation("say whether the person was engaged (engaged: true or false)")
    result = result or ""
    if result and result not in EngagementResult.values:
        raise RuleViolation(f"{result!r} is not a result: use one of {', '.join(EngagementResult.values)}")
    if result == EngagementResult.COULD_NOT_LOCATE and engaged:
        raise RuleViolation("\"could not locate\" means the person was not engaged")
    if result and result != EngagementResult.COULD_NOT_LOCATE and not engaged:
        raise RuleViolation("a result is recorded only when the person was engaged")
    if result == EngagementResult.OTHER and not notes.strip():
        raise RuleViolation("with the result \"other\", say what happened in the notes")
    if not engaged:
        if identity_confirmed is not None or stop_minutes is not None:
            raise RuleViolation("identity and stop minutes are recorded only when the person was engaged")
        return False, None, None, result
    if not isinstance(identity_confirmed, bool):
        raise RuleViolation("say whether the engagement confirmed the person's identity (identity_confirmed)")
    if stop_minutes is not None and (isinstance(stop_minutes, bool) or not isinstance(stop_minutes, int)
                                     or not 0 <= stop_minutes <= MAX_STOP_MINUTES):
        raise RuleViolation(f"stop minutes must be a whole number from 0 to {MAX_STOP_MINUTES}")
    if not identity_confirmed and stop_minutes is None:
        raise RuleViolation("the person was stopped and was not the subject: say for how many minutes")
    return True, identity_confirmed, stop_minutes, result


def _stage_one_clean(*, decision: str, demographics) -> dict:
    if decision not in Decision.values:
        raise RuleViolation(f"decision must be one of: {', '.join(Decision.values)}")
    demographics = demographics_clean(demographics)
    if demographics and decision != Decision.NOT_A_MATCH:
        raise RuleViolation("demographics are recorded only when the alert was not a match")
    return demographics


def _locked_for_officer(*, actor: User, alert: Alert, expected_version: int | None) -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if not locked.deployment.officers.filter(pk=actor.pk).exists():
        raise PermissionDenied("you are not assigned to this deployment")
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError("this alert")
    return locked


def _record_stage_one(*, alert: Alert, adjudication: Adjudication, status: str) -> None:
    """Keep the statistics record in step with the decision on the images: its status, the time of the first
    decision, and the perceived demographics of a false alert. The engagement (stage 2) is its own."""
    record = AlertRecord.objects.select_for_update().filter(alert=alert).first()
    if record is None:
        return  # raised before records existed and not backfilled: nothing to keep in step
    record.status = status
    record.first_decided_at = record.first_decided_at or adjudication.decided_at
    keep = status == Alert.Status.NOT_A_MATCH
    for field in DEMOGRAPHIC_FIELDS:
        setattr(record, field, adjudication.demographics.get(field, "") if keep else "")
    record.save()


def _record_engagement(*, alert: Alert, adjudication: Adjudication) -> None:
    AlertRecord.objects.filter(alert=alert).update(
        engaged=adjudication.engaged, identity_confirmed=adjudication.identity_confirmed,
        stop_minutes=adjudication.stop_minutes, result=adjudication.result)


def _saved(locked: Alert, *fields: str) -> Alert:
    locked.version += 1
    locked.save(update_fields=["version", "updated_at", *fields])
    broadcast_alert_on_commit(alert_id=locked.pk, event="alert.updated")
    return locked


def alert_adjudicate(*, actor: User, alert: Alert, decision: str, notes: str = "", outcome: str = "",
                     demographics: dict | None = None, expected_version: int | None = None) -> Alert:
    """Stage 1, the officer's decision on the images: a match ("confirmed"), not a match, or cannot tell.
    With two-person confirmation on, a "confirmed" needs a second officer. Optional, for the statistics:
    with "not a match", the person's perceived demographics (alerts.demographics codes). The engagement
    that may follow is stage 2 (alert_engagement_record)."""
    require_capability(user=actor, capability="adjudicate_alert")
    demographics = _stage_one_clean(decision=decision, demographics=demographics)
    with transaction.atomic():
        locked = _locked_for_officer(actor=actor, alert=alert, expected_version=expected_version)
        kind = Adjudication.Kind.DECISION
        if locked.status == Alert.Status.AWAITING_VERIFICATION:
            first = history.stage_one(locked.adjudications.all())
            if first and first.officer_id == actor.pk:
                raise RuleViolation("a second officer must verify your confirmation")
            kind = Adjudication.Kind.VERIFICATION
            new_status = DECIDED[decision]
        elif locked.status == Alert.Status.PENDING:
            new_status = DECIDED[decision]
            if decision == Decision.CONFIRMED and settings.ALERT_TWO_PERSON_CONFIRMATION:
                new_status = Alert.Status.AWAITING_VERIFICATION
        else:
            raise RuleViolation(f"this alert has already been decided: {locked.get_status_display().lower()} "
                                "(to correct your own decision, amend it)")
        adjudication = Adjudication.objects.create(
            alert=locked, officer=actor, kind=kind, decision=decision, notes=notes.strip(), outcome=outcome.strip(),
            demographics=demographics)
        _record_stage_one(alert=locked, adjudication=adjudication, status=new_status)
        locked.status = new_status
        if outcome.strip():
            locked.outcome = outcome.strip()
        audit_record(actor=actor, action=AuditAction.ALERT_ADJUDICATED, target=locked, deployment=locked.deployment_id,
                     details={"decision": decision, "kind": kind, "status": new_status, "outcome": locked.outcome,
                              "demographics": demographics})
        _saved(locked, "status", "outcome")
    return locked


def alert_engagement_record(*, actor: User, alert: Alert, engaged: bool, identity_confirmed: bool | None = None,
                            stop_minutes: int | None = None, result: str = "", notes: str = "",
                            expected_version: int | None = None) -> Alert:
    """Stage 2, after the decision on the images, for true and false alerts alike: whether officers engaged
    the person, whether that confirmed who they are (if not, an innocent person was stopped, and for how
    long), and what came of it. Once per alert; a correction is an amendment (alert_decision_amend)."""
    require_capability(user=actor, capability="adjudicate_alert")
    engaged, identity_confirmed, stop_minutes, result = _stage_two_clean(
        engaged=engaged, identity_confirmed=identity_confirmed, stop_minutes=stop_minutes, result=result,
        notes=notes)
    with transaction.atomic():
        locked = _locked_for_officer(actor=actor, alert=alert, expected_version=expected_version)
        if locked.status == Alert.Status.PENDING:
            raise RuleViolation("decide on the images first (match, not a match, cannot tell), then record the "
                                "engagement")
        if locked.adjudications.filter(kind=Adjudication.Kind.ENGAGEMENT).exists():
            raise RuleViolation("the engagement has already been recorded (to correct your own, amend it)")
        adjudication = Adjudication.objects.create(
            alert=locked, officer=actor, kind=Adjudication.Kind.ENGAGEMENT, notes=notes.strip(), engaged=engaged,
            identity_confirmed=identity_confirmed, stop_minutes=stop_minutes, result=result)
        _record_engagement(alert=locked, adjudication=adjudication)
        audit_record(actor=actor, action=AuditAction.ALERT_ENGAGEMENT_RECORDED, target=locked,
                     deployment=locked.deployment_id, details=_stage_two_details(adjudication))
        _saved(locked)
    return locked


def _stage_one_details(adjudication: Adjudication) -> dict:
    return {"decision": adjudication.decision, "notes": adjudication.notes, "demographics": adjudication.demographics}


def _stage_two_details(adjudication: Adjudication) -> dict:
    return {"engaged": adjudication.engaged, "identity_confirmed": adjudication.identity_confirmed,
            "stop_minutes": adjudication.stop_minutes, "result": adjudication.result, "notes": adjudication.notes}


def alert_decision_amend(*, actor: User, alert: Alert, adjudication_id: int, reason: str, decision: str = "",
                         notes: str = "", demographics: dict | None = None, engaged: bool | None = None,
                         identity_confirmed: bool | None = None, stop_minutes: int | None = None, result: str = "",
                         expected_version: int | None = None) -> Alert:
    """An officer corrects their own decision within ALERT_DECISION_AMEND_MINUTES (alerts.policies
    adjudication_amend_policy), with a reason: a new row of the same kind naming the one it replaces (the
    history stays; the latest counts), the statistics record in step. A stage-1 amendment takes ``decision``
    (and ``demographics``), a stage-2 one the engagement's fields, under the same rules as the first time."""
    require_capability(user=actor, capability="adjudicate_alert")
    if not reason.strip():
        raise RuleViolation("give the reason for amending the decision")
    with transaction.atomic():
        locked = _locked_for_officer(actor=actor, alert=alert, expected_version=expected_version)
        rows = list(locked.adjudications.all())
        before = next((a for a in rows if a.pk == adjudication_id), None)
        if before is None:
            raise RuleViolation(f"alert {locked.pk} has no decision {adjudication_id}")
        enforce(adjudication_amend_policy(user=actor, adjudication=before, adjudications=rows))
        fields: dict = {"alert": locked, "officer": actor, "kind": before.kind, "notes": notes.strip(),
                        "amends": before, "amend_reason": reason.strip()}
        if before.kind == Adjudication.Kind.ENGAGEMENT:
            fields["engaged"], fields["identity_confirmed"], fields["stop_minutes"], fields["result"] = (
                _stage_two_clean(engaged=engaged, identity_confirmed=identity_confirmed, stop_minutes=stop_minutes,
                                 result=result, notes=notes))
            after = Adjudication.objects.create(**fields)
            _record_engagement(alert=locked, adjudication=after)
            details: dict = {"before": _stage_two_details(before), "after": _stage_two_details(after)}
        else:
            fields["demographics"] = _stage_one_clean(decision=decision, demographics=demographics)
            after = Adjudication.objects.create(decision=decision, outcome=before.outcome, **fields)
            locked.status = DECIDED[decision]
            if (decision == Decision.CONFIRMED and before.kind == Adjudication.Kind.DECISION
                    and settings.ALERT_TWO_PERSON_CONFIRMATION):
                locked.status = Alert.Status.AWAITING_VERIFICATION
            _record_stage_one(alert=locked, adjudication=after, status=locked.status)
            details = {"before": _stage_one_details(before), "after": _stage_one_details(after),
                       "status": locked.status}
        audit_record(actor=actor, action=AuditAction.ALERT_DECISION_AMENDED, target=locked,
                     deployment=locked.deployment_id,
                     details={"adjudication": after.pk, "amends": before.pk, "kind": before.kind,
                              "reason": after.amend_reason, **details})
        _saved(locked, "status")
    return locked


def alert_case_link(*, actor: User, alert: Alert, case_reference: str) -> Alert:
    """Linking to an ongoing case keeps the alert beyond the retention period."""
    require_capability(user=actor, capability="adjudicate_alert")
    if not case_reference.strip():
        raise RuleViolation("give the case reference")
    with transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(case_reference=case_reference.strip())
        alert.case_reference = case_reference.strip()
        audit_record(actor=actor, action=AuditAction.ALERT_CASE_LINKED, target=alert, deployment=alert.deployment_id,
                     details={"case_reference": alert.case_reference})
    return alert


# --- live testing with consenting test subjects ------------------------------------------------------

CLOCK_SKEW = dt.timedelta(minutes=1)  # a walk noted a moment "in the future" by a device's clock is accepted
RECORDABLE_STATES = (Deployment.State.LIVE, Deployment.State.COMPLETED, Deployment.State.STOPPED)


def test_walk_record(*, actor: User, deployment: Deployment, camera: Camera, subject: Subject,
                     walked_at: dt.datetime | None = None) -> TestWalk:
    """The operator's note that a consenting test subject walked past a camera (the time defaults to now).

    Recorded by those `test_walk_policy` allows, while the deployment is live or up to
    TEST_WALK_RECORD_GRACE_MINUTES after it ended, for a test subject frozen into its watchlist, on one of
    its cameras, at a time when it was live. Audited `test_walk.recorded`.
    """
    require_capability(user=actor, capability="view_alerts")
    now = timezone.now()
    walked_at = walked_at or now
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if not test_walk_policy(user=actor, deployment=deployment):
            raise PermissionDenied(TEST_WALK_REFUSED)
        if deployment.state not in RECORDABLE_STATES or deployment.went_live_at is None:
            raise RuleViolation("test walks are recorded for a deployment that is or was live")
        grace = dt.timedelta(minutes=settings.TEST_WALK_RECORD_GRACE_MINUTES)
        if deployment.state != Deployment.State.LIVE and (deployment.ended_at is None
                                                          or now > deployment.ended_at + grace):
            raise RuleViolation(f"test walks are recorded up to {settings.TEST_WALK_RECORD_GRACE_MINUTES} minutes "
                                "after the deployment ended")
        if not deployment.cameras.filter(pk=camera.pk).exists():
            raise RuleViolation(f"camera {camera.name} is not one of this deployment's cameras")
        if not ManifestEntry.objects.filter(deployment=deployment, subject_id=subject.pk,
                                            category=InclusionCategory.TEST_SUBJECT).exists():
            raise RuleViolation(f"{subject.reference} is not a test subject on this deployment's frozen watchlist")
        last = deployment.ended_at if deployment.state != Deployment.State.LIVE else now + CLOCK_SKEW
        if last is None or not deployment.went_live_at <= walked_at <= last:
            raise RuleViolation("the walk's time must be while the deployment was live, and not in the future")
        walk = TestWalk.objects.create(deployment=deployment, camera=camera, subject=subject, walked_at=walked_at,
                                       recorded_by=actor)
        audit_record(actor=actor, action=AuditAction.TEST_WALK_RECORDED, target=walk, deployment=deployment.pk,
                     details={"subject": subject.reference, "camera": camera.pk,
                                               "walked_at": walked_at.isoformat()})
    return walk


def alerts_delete_for_deployment(*, actor: User | None = None, deployment_id: int, reason: str) -> dict[str, int]:
    """Every alert of a deployment whose use was refused (EU AI Act Art. 5(3): its outputs are discarded): the
    alerts with their adjudications, their AlertRecords (deleted too, not kept as figures: they are outputs of
    the use) and, after commit, every file under the deployment's alert folder. One audit event with the counts;
    the deployment records them too."""
    with transaction.atomic():
        deployment = Deployment.objects.get(pk=deployment_id)
        alerts = Alert.objects.filter(deployment_id=deployment_id)
        images = alerts.exclude(probe_file="").count()
        count = alerts.count()
        records, _ = AlertRecord.objects.filter(deployment_id=deployment_id).delete()
        alerts.delete()
        audit_record(actor=actor, action=AuditAction.ALERT_DELETED_FOR_DEPLOYMENT, target=deployment,
                     deployment=deployment_id, details={"alerts": count, "images": images, "records": records,
                                                        "reason": reason})
        transaction.on_commit(functools.partial(_alert_folder_delete, deployment_id))
    return {"alerts": count, "images": images, "records": records}


def _alert_folder_delete(deployment_id: int) -> None:
    for name, _ in protected_files(f"alerts/{deployment_id}"):
        protected_delete(name)


def alerts_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Beat: alerts past retention and not linked to a case are deleted with their face crops."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.ALERT_RETENTION_DAYS)
    purged = 0
    for alert in Alert.objects.filter(created_at__lt=cutoff, case_reference="").iterator():
        with transaction.atomic():
            audit_record(actor=None, action=AuditAction.ALERT_PURGED, target=alert, deployment=alert.deployment_id,
                         details={"created_at": alert.created_at.isoformat(), "status": alert.status})
            probe = alert.probe_file
            alert.delete()
            transaction.on_commit(functools.partial(protected_delete, probe))
        purged += 1
    return purged
