"""Live alerts over websockets: authenticated, per-deployment groups, catch-up from Postgres on (re)connect."""

from __future__ import annotations

import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.selectors import mfa_satisfied, session_user
from alerts.broadcast import deployment_group
from alerts.models import Alert
from alerts.payloads import alert_payload
from alerts.selectors import deployment_alert_access
from deployments.models import Deployment

CATCH_UP_LIMIT = 500
REFUSED = 4403  # application close code: not allowed to watch this deployment
SIGNED_OUT = 4401  # the session ended (or lost its access) while the socket was open


class DeploymentAlertsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.deployment_id = int(self.scope["url_route"]["kwargs"]["deployment_id"])
        self.access = await self._access(self.scope.get("user"), self.scope.get("session"))
        if self.access is None:
            await self.close(code=REFUSED)
            return
        self.session_key = self.scope["session"].session_key
        self.checked_at = time.monotonic()
        self.group = deployment_group(self.deployment_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "access": self.access, "deployment_id": self.deployment_id})

    async def disconnect(self, code) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if not await self._still_allowed():
            return
        if content.get("type") == "resume":
            # Postgres is the source of truth: send every alert with its current state.
            await self.send_json({"type": "alerts.snapshot", "alerts": await self._recent_alerts()})

    async def deployment_event(self, message: dict) -> None:
        if not await self._still_allowed():
            return
        event = message["event"]
        if event in ("alert.created", "alert.updated"):
            payload = message.get("alert") or await self._alert(message["alert_id"])
            if payload is not None:
                await self.send_json({"type": event, "alert": payload})
        else:
            await self.send_json({"type": event, **{k: v for k, v in message.items() if k not in ("type", "event")}})

    async def _still_allowed(self) -> bool:
        """Re-read the session before sending, at most every ALERT_SOCKET_RECHECK_SECONDS: a socket must not
        outlive a sign-out, an expired session, a deactivated account or a withdrawn assignment, whatever
        the browser does. Closes the socket (4401) when it has."""
        if self.group is None:
            return False  # closed already
        if time.monotonic() - self.checked_at < settings.ALERT_SOCKET_RECHECK_SECONDS:
            return True
        signed_in = await database_sync_to_async(session_user)(session_key=self.session_key)
        access = None if signed_in is None else await self._access(*signed_in)
        if access != self.access:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self.close(code=SIGNED_OUT)
            return False
        self.checked_at = time.monotonic()
        return True

    @database_sync_to_async
    def _access(self, user, session) -> str | None:
        if not mfa_satisfied(user=user, session=session):
            return None  # a role that needs MFA, signed in with the password only
        deployment = Deployment.objects.filter(pk=self.deployment_id).first()
        if deployment is None:
            return None
        return deployment_alert_access(user=user, deployment=deployment)

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
