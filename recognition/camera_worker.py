"""The Django side of a camera worker: claim cameras, build the matcher from the frozen snapshot, run the
pipeline, and turn its callbacks into alerts, camera status and per-minute counts.

The loop itself is `recognition.run_loop.run_cameras` (no Django). Nothing here stores a face that did
not match: the pipeline only hands over alert candidates and counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from alerts.services import alert_deliver, delivery_failure_is_transient
from alerts.spool import alert_spool, alert_spool_entry
from deployments.camera_sources import camera_source_policy
from deployments.models import Camera, Deployment, SnapshotReference
from recognition.alert_spool import AlertSpool, Backoff, HeldEntry, SpoolDrainer
from recognition.batch import AlertCandidate, PipelineConfig
from recognition.camera_records import CameraRecords, DatabaseOutage, forget_broken_connection
from recognition.leases import (
    camera_lease_acquire,
    camera_lease_release,
    camera_lease_renew,
    new_holder_token,
)
from recognition.metrics import camera_stats_record
from recognition.ml.decision import decision_from_spec
from recognition.ml.input_sizes import engine_on_gpu, live_det_size
from recognition.ml.matcher import WatchlistMatcher
from recognition.run_loop import StatsReport, run_cameras
from recognition.runtime import face_engine
from recognition.services import camera_status_set
from recognition.sources import FrameSource, RefusedSource, SourceError, SourcePolicy, create_source

logger = logging.getLogger(__name__)

SOURCE_STATUS = {"connected": Camera.Status.STREAMING, "unavailable": Camera.Status.LOST, "lost": Camera.Status.LOST,
                 "error": Camera.Status.LOST, "ended": Camera.Status.IDLE}
STATE_CHECK_SECONDS = 1.0
SPOOL_FLUSH_SECONDS = 5.0  # at stop, how long the drainer may go on delivering; the rest waits in the spool


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_cameras(*, deployment: Deployment, holder: str, capacity: int) -> list[Camera]:
    claimed = []
    for camera in deployment.cameras.filter(enabled=True).order_by("pk"):
        if len(claimed) >= capacity:
            break
        if camera_lease_acquire(deployment_id=deployment.pk, camera_id=camera.pk, holder=holder,
                                ttl_ms=settings.CAMERA_LEASE_SECONDS * 1000):
            claimed.append(camera)
    return claimed


def snapshot_threshold_offsets(*, deployment: Deployment) -> dict[int, float]:
    """subject id -> how much more than the threshold it needs (an entry enrolled as a child), frozen with the
    snapshot; a subject scores its best reference, so its largest offset applies."""
    offsets: dict[int, float] = {}
    for subject_id, offset in SnapshotReference.objects.filter(
            snapshot__deployment=deployment, threshold_offset__gt=0).values_list("subject_id", "threshold_offset"):
        offsets[subject_id] = max(offset, offsets.get(subject_id, 0.0))
    return offsets


def snapshot_matcher(*, deployment: Deployment) -> tuple[WatchlistMatcher, dict[int, SnapshotReference]]:
    references = list(SnapshotReference.objects.filter(snapshot__deployment=deployment).order_by("pk"))
    if references:
        matrix = np.stack([np.asarray(r.embedding, dtype=np.float32) for r in references])
    else:
        matrix = np.zeros((0, 512), dtype=np.float32)
    by_subject: dict[int, SnapshotReference] = {}
    for reference in references:
        by_subject.setdefault(reference.subject_id, reference)
    return WatchlistMatcher(references=matrix, subject_ids=[r.subject_id for r in references]), by_subject


@dataclass
class _Run:
    deployment: Deployment
    holder: str
    cameras: dict[int, Camera]
    by_subject: dict[int, SnapshotReference]
    model_id: str
    last_check: float = 0.0
    stop_reason: str = ""
    redis_away_since: float | None = None
    shutdown: threading.Event = field(default_factory=threading.Event)
    alerts: list[int] = field(default_factory=list)
    spool: AlertSpool = field(default_factory=alert_spool)
    drainer: SpoolDrainer | None = None
    outage: DatabaseOutage = field(init=False)
    records: CameraRecords = field(init=False)

    def __post_init__(self) -> None:
        self.outage = DatabaseOutage(holder=self.holder)
        self.records = CameraRecords(deployment_id=self.deployment.pk, outage=self.outage)

    def should_continue(self) -> bool:
        """Checked by the loop at least every 0.5 s; hits the database and Redis once a second."""
        if self.shutdown.is_set():
            self.stop_reason = "the worker is shutting down"
            return False
        now = time.monotonic()
        if now - self.last_check < STATE_CHECK_SECONDS:
            return not self.stop_reason
        self.last_check = now
        state, ends_at = self._deployment_state()
        if state != Deployment.State.LIVE:
            self.stop_reason = f"deployment is {state}"
        elif timezone.now() >= ends_at:
            self.stop_reason = "the authorised window has closed"
        else:
            self._renew_leases()
        return not self.stop_reason

    def _deployment_state(self) -> tuple[str, dt.datetime]:
        """The deployment's state and end as the database has them; while it is away (a restart), live until the
        end it had when this run started: nobody can stop the deployment without the database either."""
        try:
            state, ends_at = Deployment.objects.filter(pk=self.deployment.pk).values_list("state", "ends_at").get()
        except DatabaseError as exc:
            self.outage.failed(exc, "check the deployment's state")
            return Deployment.State.LIVE, self.deployment.ends_at
        self.outage.answered()
        if self.records.statuses or self.records.counts:
            self.records.flush()
        return state, ends_at

    def _renew_leases(self) -> None:
        """A Redis that is away (a restart) does not stop the cameras: nobody else can take a lease meanwhile,
        and the first renewal once it is back keeps or takes back each lease; a lease another worker holds
        by then stops this loop."""
        try:
            for camera_id in self.cameras:
                if not camera_lease_renew(deployment_id=self.deployment.pk, camera_id=camera_id, holder=self.holder,
                                          ttl_ms=settings.CAMERA_LEASE_SECONDS * 1000):
                    self.stop_reason = f"lost the lease on camera {camera_id}"
        except redis.RedisError as exc:
            if self.redis_away_since is None:
                self.redis_away_since = time.monotonic()
                logger.warning("worker %s cannot reach Redis to renew its camera leases (%s); carrying on",
                               self.holder, exc)
            return
        if self.redis_away_since is not None:
            logger.warning("worker %s renewed its camera leases again after %.0f s without Redis", self.holder,
                           time.monotonic() - self.redis_away_since)
            self.redis_away_since = None

    def on_alert(self, candidate: AlertCandidate) -> None:
        """Spool the match (durable before anything can fail), then deliver it at once unless the drainer
        is already retrying a backlog (the database is down: the camera loop must not wait for it)."""
        reference = self.by_subject[candidate.subject_id]
        ok, jpeg = cv2.imencode(".jpg", candidate.face_crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
        held = self.spool.put(alert_spool_entry(
            deployment_id=self.deployment.pk, camera_id=candidate.camera_key, run_token=self.holder,
            track_id=candidate.track_id, reference=reference, score=candidate.score,
            threshold=candidate.threshold, model_id=self.model_id, frame_time=_wall_time(candidate.read_at),
            probe_jpeg=jpeg.tobytes()))
        with held:
            if self.drainer is not None and self.drainer.failing:
                return
            try:
                self.deliver_spooled(held)
            except Exception as exc:
                if not delivery_failure_is_transient(exc):
                    logger.exception("alert of track %s on camera %s cannot be delivered: kept in the spool",
                                     candidate.track_id, candidate.camera_key)
                    return
                logger.warning("alert of track %s on camera %s spooled, not yet delivered", candidate.track_id,
                               candidate.camera_key, exc_info=True)
                if self.drainer is not None:
                    held.release()
                    self.drainer.wake()

    def deliver_spooled(self, held: HeldEntry) -> None:
        try:
            alert = alert_deliver(held=held)
        except Exception:
            forget_broken_connection()
            raise
        if alert.run_token == self.holder:
            self.alerts.append(alert.pk)

    def on_stats(self, report: StatsReport) -> None:
        camera_stats_record(report=report, worker=worker_name())  # first: it never raises, the database may
        for camera_id, counts in report.cameras.items():
            if counts.frames_processed or counts.faces_seen:
                self.records.add_counts(camera_id, faces=counts.faces_seen, frames=counts.frames_processed,
                                        tracks=counts.tracks_started)
        self.records.flush()

    def on_source_status(self, camera_id: int, status: str, detail: str) -> None:
        self.records.set_status(camera_id, SOURCE_STATUS.get(status, Camera.Status.LOST), detail)


def _wall_time(read_at: float | None):
    """The moment the camera frame was read, as an aware datetime (now if unknown)."""
    if read_at is None:
        return timezone.now()
    return dt.datetime.fromtimestamp(read_at, tz=dt.UTC)


def _stop_on_sigterm(event: threading.Event):
    """A worker being shut down (SIGTERM to its process group, as systemd and `lfr up` do) finishes the
    current batch, releases its leases and returns; the supervisor hands the cameras to another worker."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: event.set())


def _camera_source(camera: Camera, *, policy: SourcePolicy, realtime: bool) -> FrameSource:
    try:
        return create_source(camera.source_url, policy=policy, loop=camera.loop_playback, realtime=realtime)
    except SourceError as exc:  # a row stored before its scheme or form was refused
        return RefusedSource(camera.source_url, str(exc))


def camera_worker_run(*, deployment_id: int, capacity: int | None = None, realtime: bool = True) -> dict:
    """Process up to `capacity` unclaimed cameras of a live deployment until it stops or its window closes.

    `realtime=False` reads video files as fast as the engine goes (evaluation, tests); cameras are live anyway.
    """
    deployment = Deployment.objects.select_related("snapshot").filter(pk=deployment_id).first()
    if deployment is None or deployment.state != Deployment.State.LIVE:
        return {"claimed": 0, "reason": "deployment not live"}
    holder = new_holder_token(worker_name())
    cameras = claim_cameras(deployment=deployment, holder=holder, capacity=capacity or settings.CAMERA_WORKER_CAPACITY)
    if not cameras:
        return {"claimed": 0, "reason": "every camera already has a worker"}
    logger.info("worker %s processing cameras %s of deployment %s", holder, [c.pk for c in cameras], deployment.pk)
    engine = face_engine()
    matcher, by_subject = snapshot_matcher(deployment=deployment)
    run = _Run(deployment=deployment, holder=holder, cameras={c.pk: c for c in cameras}, by_subject=by_subject,
               model_id=deployment.snapshot.model_id)
    previous_handler = _stop_on_sigterm(run.shutdown)
    # Delivers what a killed predecessor on this host left, then whatever this run could not deliver at once.
    # Retries at most 5 s apart: a reconnect attempt is cheap, and an alert should follow the database back fast.
    run.drainer = SpoolDrainer(run.spool, run.deliver_spooled, transient=delivery_failure_is_transient,
                               backoff=Backoff(0.5, 5.0), on_exit=connections.close_all).start()
    try:
        policy = camera_source_policy()  # each source checks its stored URL again on every (re)connect
        sources = {c.pk: _camera_source(c, policy=policy, realtime=realtime) for c in cameras}
        for camera in cameras:
            camera_status_set(camera_id=camera.pk, deployment_id=deployment.pk, status=Camera.Status.CONNECTING)
        summary = run_cameras(
            sources=sources, engine=engine, matcher=matcher, threshold=deployment.threshold,
            threshold_offsets=snapshot_threshold_offsets(deployment=deployment),
            should_continue=run.should_continue, on_alert=run.on_alert, on_stats=run.on_stats,
            on_source_status=run.on_source_status,
            config=PipelineConfig(det_size=live_det_size(settings.LIVE_DETECTION_SIZE, on_gpu=engine_on_gpu(engine)),
                                  decision=decision_from_spec(settings.ALERT_DECISION),
                                  repeat_alert_after_s=settings.ALERT_REPEAT_SUPPRESSION_SECONDS),
        )
    finally:
        run.drainer.stop(flush_timeout_s=SPOOL_FLUSH_SECONDS)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        for camera in cameras:
            try:
                camera_lease_release(deployment_id=deployment.pk, camera_id=camera.pk, holder=holder)
            except redis.RedisError:  # the lease lapses by itself
                logger.warning("could not release the lease on camera %s", camera.pk, exc_info=True)
            try:
                camera_status_set(camera_id=camera.pk, deployment_id=deployment.pk, status=Camera.Status.IDLE,
                                  detail=run.stop_reason)
            except Exception:
                logger.exception("could not record camera %s as idle", camera.pk)
    logger.info("worker %s stopped: %s", holder, run.stop_reason or summary.reason)
    return {"claimed": len(cameras), "cameras": [c.pk for c in cameras], "alerts": run.alerts,
            "reason": run.stop_reason or summary.reason, "frames": summary.frames_processed}
