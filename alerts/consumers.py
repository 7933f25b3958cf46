"""Live alerts over websockets: authenticated, per-deployment groups, catch-up from Postgres on (re)connect."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.selectors import mfa_satisfied
from alerts.broadcast import deployment_group
from alerts.models import Alert
from alerts.payloads import alert_payload
from alerts.selectors import deployment_alert_access
from deployments.models import Deployment

CATCH_UP_LIMIT = 500
REFUSED = 4403  # application close code: not allowed to watch this deployment


class DeploymentAlertsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.deployment_id = int(self.scope["url_route"]["kwargs"]["deployment_id"])
        self.access = await self._access()
        if self.access is None:
            await self.close(code=REFUSED)
            return
        self.group = deployment_group(self.deployment_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "access": self.access, "deployment_id": self.deployment_id})

    async def disconnect(self, code) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if content.get("type") == "resume":
            # Postgres is the source of truth: send every alert with its current state.
            await self.send_json({"type": "alerts.snapshot", "alerts": await self._recent_alerts()})

    async def deployment_event(self, message: dict) -> None:
        event = message["event"]
        if event in ("alert.created", "alert.updated"):
            payload = message.get("alert") or await self._alert(message["alert_id"])
            if payload is not None:
                await self.send_json({"type": event, "alert": payload})
        else:
            await self.send_json({"type": event, **{k: v for k, v in message.items() if k not in ("type", "event")}})

    @database_sync_to_async
    def _access(self) -> str | None:
        if not mfa_satisfied(user=self.scope.get("user"), session=self.scope.get("session")):
            return None  # a role that needs MFA, signed in with the password only
        deployment = Deployment.objects.filter(pk=self.deployment_id).first()
        if deployment is None:
            return None
        return deployment_alert_access(user=self.scope.get("user"), deployment=deployment)

    @database_sync_to_async
    def _recent_alerts(self) -> list[dict]:
        alerts = (Alert.objects.filter(deployment_id=self.deployment_id).select_related("camera")
                  .prefetch_related("adjudications__officer").order_by("-pk")[:CATCH_UP_LIMIT])
        return [alert_payload(a) for a in reversed(list(alerts))]

    @database_sync_to_async
    def _alert(self, alert_id: int) -> dict | None:
        alert = (Alert.objects.filter(pk=alert_id, deployment_id=self.deployment_id).select_related("camera")
                 .prefetch_related("adjudications__officer").first())
        return alert_payload(alert) if alert else None
