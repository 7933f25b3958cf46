"""The alerts app's answers to deployments' signals (deployments sits below alerts and cannot call it)."""

from __future__ import annotations

from alerts.services import alerts_delete_for_deployment


def on_deployment_outputs_discard(sender, deployment_id: int, actor, reason: str, **kwargs) -> dict[str, int]:
    return alerts_delete_for_deployment(actor=actor, deployment_id=deployment_id, reason=reason)
