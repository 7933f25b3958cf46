"""React to deployment state changes (tell the officers' pages, start camera workers at once) and to new alerts
(their delivery latency for /metrics)."""

from alerts.broadcast import broadcast_now
from alerts.metrics import alert_delivery_observe
from deployments.models import Deployment


def on_deployment_state_changed(sender, deployment_id: int, state: str, **kwargs) -> None:
    broadcast_now(deployment_id=deployment_id, message={
        "type": "deployment.event", "event": "deployment.state", "deployment_id": deployment_id,
        "state": state, "label": Deployment.State(state).label})
    if state == Deployment.State.LIVE:
        from recognition.tasks import _enqueue_once

        _enqueue_once(deployment_id)


def on_alert_saved(sender, instance, created: bool, **kwargs) -> None:
    """A new alert: once its transaction commits, how long after its frame was read (lfr_alert_delivery_latency)."""
    if created:
        from django.db import transaction

        frame_time = instance.frame_time
        transaction.on_commit(lambda: alert_delivery_observe(stage="commit", frame_time=frame_time))
