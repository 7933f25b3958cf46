"""The websocket is the doorbell, Postgres the source of truth: messages carry ids and the page fetches.

A broadcast runs after commit and may fail (Redis down): it is logged and dropped, never raised into the
code that committed. Pages catch up from Postgres (alerts/consumers.py "catch_up"), so a lost doorbell
delays an alert by at most the page's catch-up period, and loses nothing.

Apps above alerts add their own doorbells for a new alert with `alert_created_listener_add` (notifications:
Web Push to officers whose page is closed): alerts imports nothing of them. Each listener is called after
commit with the alert's id, on its own, and a listener that raises is logged like a failed broadcast.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from alerts.metrics import alert_delivery_observe
from alerts.payloads import alert_payload
from alerts.selectors import alert_payloads

logger = logging.getLogger(__name__)

_alert_created_listeners: list[Callable[[int], None]] = []


def alert_created_listener_add(listener: Callable[[int], None]) -> None:
    """Call ``listener(alert_id)`` after the commit of every new alert (from an app's ready())."""
    if listener not in _alert_created_listeners:
        _alert_created_listeners.append(listener)


def deployment_group(deployment_id: int) -> str:
    return f"deployment-{deployment_id}"


def broadcast_on_commit(*, deployment_id: int, event: str, **payload) -> None:
    """Queue a message to everyone watching the deployment, sent only if the transaction commits."""
    message = {"type": "deployment.event", "event": event, "deployment_id": deployment_id, **payload}
    transaction.on_commit(lambda: _sent_or_logged(lambda: broadcast_now(deployment_id=deployment_id,
                                                                         message=message), event))


def _sent_or_logged(send, event: str) -> None:
    try:
        send()
    except Exception:
        logger.warning("broadcast of %s failed: pages will catch up from the database", event, exc_info=True)


def broadcast_now(*, deployment_id: int, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send(deployment_group(deployment_id), message)
        return
    # Called from synchronous code on a thread that runs an event loop (e.g. a browser-driving test):
    # async_to_sync cannot run here, so send from a helper thread and wait for it.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(send, deployment_group(deployment_id), message).result()


def broadcast_alert_on_commit(*, alert_id: int, event: str) -> None:
    """After commit, read the alert once and send its payload: 200 officers' sockets then forward it
    without 200 database reads (fan-out measured in bench/alert_latency.py)."""

    def send() -> None:
        alert = alert_payloads().filter(pk=alert_id).first()
        if alert is not None:
            broadcast_now(deployment_id=alert.deployment_id, message={
                "type": "deployment.event", "event": event, "deployment_id": alert.deployment_id,
                "alert_id": alert_id, "alert": alert_payload(alert)})
            if event == "alert.created":
                alert_delivery_observe(stage="broadcast", frame_time=alert.frame_time)

    transaction.on_commit(lambda: _sent_or_logged(send, event))
    if event == "alert.created":
        for listener in _alert_created_listeners:
            transaction.on_commit(lambda listener=listener: _sent_or_logged(lambda: listener(alert_id), event))
