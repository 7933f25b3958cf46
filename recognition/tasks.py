"""Tasks on the `recognition` queue (GPU hosts run only this queue)."""

import redis
from celery import shared_task
from django.conf import settings
from django.db import close_old_connections

from deployments.models import Deployment
from recognition.camera_worker import camera_worker_run
from recognition.leases import camera_lease_holder


@shared_task(acks_late=True, reject_on_worker_lost=True)
def camera_worker_task(deployment_id: int) -> dict:
    try:
        return camera_worker_run(deployment_id=deployment_id)
    finally:
        close_old_connections()  # a long task must not hand a stale connection to the next one


def _enqueue_once(deployment_id: int) -> bool:
    """At most one pending hand-out per deployment every few seconds (the worker claims what is free)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    if client.set(f"lfr:camera-handout:{deployment_id}", 1, nx=True, ex=8):
        camera_worker_task.delay(deployment_id)
        return True
    return False


@shared_task
def cameras_supervise_task() -> dict:
    """Beat: every live deployment's enabled cameras must each have a worker; hand out the orphans
    (a crashed worker's leases lapse after CAMERA_LEASE_SECONDS)."""
    handed = []
    for deployment in Deployment.objects.filter(state=Deployment.State.LIVE).prefetch_related("cameras"):
        orphans = [c.pk for c in deployment.cameras.all()
                   if c.enabled and camera_lease_holder(deployment_id=deployment.pk, camera_id=c.pk) is None]
        if orphans and _enqueue_once(deployment.pk):
            handed.append(deployment.pk)
    return {"handed_out": handed}
