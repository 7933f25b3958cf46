from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.permissions import require_any_capability
from core.heartbeat import WorkersSeen, workers_seen
from core.policy import enforce
from core.redaction import credentials_masked
from deployments.models import Camera, Deployment, DeploymentDocument, DocumentKind
from deployments.policies import (
    VIEW_CAPABILITIES,
    Action,
    CameraAction,
    assignable_officers_filter,
    awaiting_decision_by,
    camera_actions,
    camera_refusal,
    deployment_refusal,
    deployment_role_refusal,
    deployments_visible_to,
)
from recognition.leases import camera_lease_holders
from recognition.source_urls import redact_url


def deployment_list(*, user) -> QuerySet[Deployment]:
    """Planners, commanders and oversight see every deployment; officers only those they are assigned to."""
    require_any_capability(user=user, capabilities=VIEW_CAPABILITIES)
    deployments = (Deployment.objects.select_related("watchlist", "created_by", "urgent_use")
                   .annotate(camera_count=Count("cameras")))
    return deployments.filter(deployments_visible_to(user=user)).order_by("-starts_at", "pk")


def access_deployment(*, user, id: int) -> Deployment:
    try:
        return deployment_list(user=user).get(pk=id)
    except Deployment.DoesNotExist:
        raise Http404("no such deployment") from None


def deployment_authorisation_queue(*, user) -> QuerySet[Deployment]:
    enforce(deployment_role_refusal(user=user, action=Action.AUTHORISE))
    return deployment_list(user=user).filter(awaiting_decision_by(user=user)).order_by("starts_at", "pk")


# --- documents (DPIA, EIA, APD) ---------------------------------------------------------------------

def current_documents(*, deployment: Deployment) -> dict[str, DeploymentDocument]:
    """The latest version of each kind of document uploaded: what an authorisation now would rest on."""
    latest = (DeploymentDocument.objects.filter(deployment=deployment).select_related("uploaded_by")
              .order_by("kind", "-version").distinct("kind"))
    return {document.kind: document for document in latest}


def documents_key(documents: dict[str, DeploymentDocument]) -> str:
    """Names the versions a page listed, so the decision can be refused when they changed since."""
    return ",".join(f"{kind}:{documents[kind].pk}" for kind in DocumentKind if kind in documents)


def deployment_documents(*, user, deployment: Deployment) -> QuerySet[DeploymentDocument]:
    """Every version of every document, newest first within each kind (deployments.policies VIEW_DOCUMENTS)."""
    enforce(deployment_refusal(user=user, deployment=deployment, action=Action.VIEW_DOCUMENTS))
    return (DeploymentDocument.objects.filter(deployment=deployment).select_related("uploaded_by")
            .order_by("kind", "-version"))


def access_deployment_document(*, user, deployment: Deployment, id: int) -> DeploymentDocument:
    try:
        return deployment_documents(user=user, deployment=deployment).get(pk=id)
    except DeploymentDocument.DoesNotExist:
        raise Http404("no such document") from None


def assignable_officers():
    """The users who may be assigned to receive a deployment's alerts (deployments.policies)."""
    return (get_user_model().objects.filter(assignable_officers_filter())
            .order_by("last_name", "first_name", "username").distinct())


def camera_list(*, user) -> QuerySet[Camera]:
    enforce(camera_refusal(user=user, action=CameraAction.VIEW))
    return Camera.objects.order_by("name", "pk")


def camera_sources_shown(*, user) -> bool:
    """Camera sources (file paths, stream URLs) are shown only to those who manage cameras; others see a
    camera's name and location."""
    return CameraAction.EDIT in camera_actions(user=user)


def camera_status_detail(*, camera: Camera, sources_shown: bool) -> str:
    """The camera's stream status detail; for those not shown sources, without the source in it (a stream
    error may quote the URL or the file path)."""
    detail = camera.status_detail or ""
    if not sources_shown:
        source = camera.source_url or ""
        for shown in sorted({source, redact_url(source), credentials_masked(source)} - {""}, key=len, reverse=True):
            detail = detail.replace(shown, "the camera source")
    return credentials_masked(detail)


def access_camera(*, user, id: int) -> Camera:
    try:
        return camera_list(user=user).get(pk=id)
    except Camera.DoesNotExist:
        raise Http404("no such camera") from None


# --- why a deployment that should be live is not ---------------------------------------------------

WINDOW_CHECK_EVERY_S = 5  # the beat schedule of deployments_tick_task (config/settings.py)
WINDOW_CHECK_GRACE_S = 3 * WINDOW_CHECK_EVERY_S  # a window this late to open or close: something is wrong
CAMERA_START_GRACE_S = 20  # a camera may take this long after going live to be claimed and streaming


@dataclass(frozen=True)
class NotLiveReason:
    code: str
    message: str
    camera_id: int | None = None


def _clock(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S")


def _control_reasons(workers: WorkersSeen, *, now: float) -> list[NotLiveReason]:
    """Why the window check (beat -> the control worker's deployments_tick) has not acted."""
    control = workers.control
    if not control:
        return [NotLiveReason("no_control_worker", "No control worker is running (no heartbeat from a worker on "
                                                   "the default queue): nothing opens or closes the window.")]
    reasons = []
    if all(beat.full for beat in control):
        busy, slots = sum(b.busy for b in control), sum(b.slots for b in control)
        reasons.append(NotLiveReason("control_worker_busy", f"Every control worker slot is busy ({busy} of "
                                                            f"{slots}): the window check waits behind other work."))
    if workers.window_check_at is None:
        reasons.append(NotLiveReason("window_check_not_run", "The window check has not run: is Celery beat running?"))
    elif now - workers.window_check_at > WINDOW_CHECK_GRACE_S:
        reasons.append(NotLiveReason("window_check_late", f"The window check last ran "
                                                          f"{now - workers.window_check_at:.0f} s ago (it runs every "
                                                          f"{WINDOW_CHECK_EVERY_S} s): is Celery beat running?"))
    return reasons


def _camera_reasons(deployment: Deployment, workers: WorkersSeen, lease_holders: dict[int, str | None],
                    *, now: dt.datetime) -> list[NotLiveReason]:
    settled = deployment.went_live_at is None or (now - deployment.went_live_at).total_seconds() > CAMERA_START_GRACE_S
    reasons = []
    recognition = workers.recognition
    cameras = [c for c in deployment.cameras.all() if c.enabled]
    if not cameras:
        return [NotLiveReason("no_cameras", "The deployment has no enabled camera.")]
    if not recognition:
        reasons.append(NotLiveReason("no_recognition_worker", "No recognition worker is running (no heartbeat from "
                                                              "a worker on the recognition queue)."))
    unclaimed = [c for c in cameras if not lease_holders.get(c.pk)]
    if recognition and unclaimed and settled and all(beat.full for beat in recognition):
        busy, slots = sum(b.busy for b in recognition), sum(b.slots for b in recognition)
        reasons.append(NotLiveReason("recognition_workers_full", f"Every recognition worker slot is busy ({busy} of "
                                                                 f"{slots}): no worker is free to take a camera."))
    for camera in cameras:
        # Everyone who sees the deployment reads these: the source is left out (camera_sources_shown).
        detail = f": {camera_status_detail(camera=camera, sources_shown=False)}" if camera.status_detail else ""
        since = camera.status_changed_at and (now - camera.status_changed_at).total_seconds()
        if not lease_holders.get(camera.pk):
            if settled:
                reasons.append(NotLiveReason("camera_unclaimed", f"Camera “{camera.name}”: no recognition worker has "
                                                                 f"claimed it (no lease); last status "
                                                                 f"{camera.get_status_display().lower()}{detail}.",
                                             camera.pk))
        elif camera.status == Camera.Status.LOST:
            reasons.append(NotLiveReason("camera_lost", f"Camera “{camera.name}”: stream lost, retrying{detail}.",
                                         camera.pk))
        elif camera.status == Camera.Status.IDLE and settled:
            reasons.append(NotLiveReason("camera_idle", f"Camera “{camera.name}”: claimed but idle{detail}.", camera.pk))
        elif camera.status == Camera.Status.CONNECTING and settled and (since is None or since > CAMERA_START_GRACE_S):
            reasons.append(NotLiveReason("camera_connecting", f"Camera “{camera.name}”: still connecting"
                                                              f"{f' after {since:.0f} s' if since else ''}{detail}.",
                                         camera.pk))
    return reasons


def deployment_not_live_reasons(*, deployment: Deployment, workers: WorkersSeen | None = None,
                                lease_holders: dict[int, str | None] | None = None,
                                now: dt.datetime | None = None) -> list[NotLiveReason]:
    """Why a deployment that should be live (authorised with its window open, or live) is not running as
    authorised: no control worker or window check, no recognition worker or no free slot, a camera unclaimed,
    lost, idle or stuck connecting (with its status detail, credentials masked). Empty when all is well or
    nothing is due. ``workers`` and ``lease_holders`` are read from Redis when not given."""
    now = now or timezone.now()
    state = deployment.state
    opening = state == Deployment.State.AUTHORISED and now >= deployment.starts_at
    closing = state in (Deployment.State.AUTHORISED, Deployment.State.LIVE) and now >= deployment.ends_at
    if not (opening or closing or state == Deployment.State.LIVE):
        return []
    workers = workers or workers_seen()
    if not workers.reachable:
        return [NotLiveReason("broker_unreachable", f"Redis (the broker) does not answer, so workers and camera "
                                                    f"leases cannot be checked: {credentials_masked(workers.error)}")]
    reasons = []
    overdue = now - (deployment.ends_at if closing else deployment.starts_at)
    if overdue.total_seconds() > WINDOW_CHECK_GRACE_S and (opening or closing):
        if closing:
            reasons.append(NotLiveReason("window_not_closed", f"The authorised window closed at "
                                                              f"{_clock(deployment.ends_at)} but the deployment is "
                                                              f"still {deployment.get_state_display().lower()}."))
        else:
            reasons.append(NotLiveReason("window_not_opened", f"The authorised window started at "
                                                              f"{_clock(deployment.starts_at)} but the deployment has "
                                                              f"not gone live."))
        reasons += _control_reasons(workers, now=time.time())
    if state == Deployment.State.LIVE and not closing:
        if lease_holders is None:
            try:
                lease_holders = camera_lease_holders(deployment_id=deployment.pk,
                                                     camera_ids=[c.pk for c in deployment.cameras.all()])
            except Exception as exc:
                return reasons + [NotLiveReason("broker_unreachable", f"Redis (the broker) does not answer, so "
                                                                      f"camera leases cannot be checked: "
                                                                      f"{credentials_masked(str(exc))}")]
        reasons += _camera_reasons(deployment, workers, lease_holders, now=now)
    return reasons


def deployments_due() -> QuerySet[Deployment]:
    """Deployments that should be running now (live, or authorised with the window open): for /healthz."""
    now = timezone.now()
    return (Deployment.objects.filter(Q(state=Deployment.State.LIVE)
                                      | Q(state=Deployment.State.AUTHORISED, starts_at__lte=now))
            .prefetch_related("cameras").order_by("starts_at", "pk"))
