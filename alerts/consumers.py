"""Live alerts over websockets: authenticated, per-deployment groups, catch-up from Postgres on (re)connect
and periodically while connected (a broadcast lost to a broker fault, or a group membership lost with a Redis
restart, must not hide an alert from a page whose socket stayed open)."""

from __future__ import annotations

import datetime as dt
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from accounts.selectors import mfa_satisfied, session_user
from alerts.broadcast import deployment_group
from alerts.payloads import alert_payload
from alerts.policies import deployment_alert_access
from alerts.selectors import alert_payloads
from audit.context import Channel, audit_context, correlation_id_new
from core.client_address import scope_client_ip
from deployments.models import Deployment

CATCH_UP_LIMIT = 500
REFUSED = 4403  # application close code: not allowed to watch this deployment
SIGNED_OUT = 4401  # the session ended (or lost its access) while the socket was open
# A catch-up sends what changed since the cursor of the previous one, less this overlap: a transaction that
# stamped its alert before the previous catch-up ran but committed after it is still sent (the page shows
# each alert once, by id, and keeps the newest version).
CATCH_UP_OVERLAP = dt.timedelta(minutes=2)


class DeploymentAlertsConsumer(AsyncJsonWebsocketConsumer):
    async def dispatch(self, message) -> None:
        """Each message of the connection (connect, receive, group events, disconnect) is handled in the
        connection's audit context: channel "socket", the client's address, one correlation id per connection."""
        if not hasattr(self, "audit_correlation_id"):
            self.audit_correlation_id = correlation_id_new()
        with audit_context(channel=Channel.SOCKET, client_ip=scope_client_ip(self.scope),
                           correlation_id=self.audit_correlation_id):
            await super().dispatch(message)

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
        await self.send_json({"type": "hello", "access": self.access, "deployment_id": self.deployment_id,
                              "catch_up_seconds": settings.ALERT_LIVE_CATCH_UP_SECONDS})

    async def disconnect(self, code) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if not await self._still_allowed():
            return
        if content.get("type") == "resume":
            # Postgres is the source of truth: send every alert with its current state.
            cursor = _cursor()
            await self.send_json({"type": "alerts.snapshot", "alerts": await self._recent_alerts(),
                                  "cursor": cursor})
        elif content.get("type") == "catch_up":
            # Re-join the group too: a Redis restart forgets its members while this socket stays open.
            await self.channel_layer.group_add(self.group, self.channel_name)
            since, cursor = _parse_cursor(content.get("cursor")), _cursor()
            await self.send_json({"type": "alerts.catch_up", "alerts": await self._changed_alerts(since),
                                  "cursor": cursor})

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
        alerts = alert_payloads().filter(deployment_id=self.deployment_id).order_by("-pk")[:CATCH_UP_LIMIT]
        return [alert_payload(a) for a in reversed(list(alerts))]

    @database_sync_to_async
    def _changed_alerts(self, since: dt.datetime) -> list[dict]:
        alerts = alert_payloads().filter(deployment_id=self.deployment_id, updated_at__gte=since).order_by("-pk")
        return [alert_payload(a) for a in reversed(list(alerts[:CATCH_UP_LIMIT]))]

    @database_sync_to_async
    def _alert(self, alert_id: int) -> dict | None:
        alert = alert_payloads().filter(pk=alert_id, deployment_id=self.deployment_id).first()
        return alert_payload(alert) if alert else None


def _cursor() -> str:
    return (timezone.now() - CATCH_UP_OVERLAP).isoformat()


def _parse_cursor(value) -> dt.datetime:
    """The cursor the page was given (the server's clock, less the overlap); anything else: the overlap."""
    try:
        since = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return timezone.now() - CATCH_UP_OVERLAP
    return since if since.tzinfo else timezone.now() - CATCH_UP_OVERLAP
