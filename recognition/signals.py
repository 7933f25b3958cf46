"""React to deployment state changes: tell the officers' pages, start camera workers at once."""

from alerts.broadcast import broadcast_now
from deployments.models import Deployment


def on_deployment_state_changed(sender, deployment_id: int, state: str, **kwargs) -> None:
    broadcast_now(deployment_id=deployment_id, message={
        "type": "deployment.event", "event": "deployment.state", "deployment_id": deployment_id,
        "state": state, "label": Deployment.State(state).label})
    if state == Deployment.State.LIVE:
        from recognition.tasks import _enqueue_once

        _enqueue_once(deployment_id)
