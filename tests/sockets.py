"""Websocket clients for tests: a real signed-in session in its cookie, through the real ASGI router."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from config.asgi import application


def signed_in_session(user, *, mfa_verified: bool = True) -> SessionStore:
    """A saved session as the login view leaves it; past the TOTP step too unless `mfa_verified=False`."""
    from tests.conftest import mfa_verify_session

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    if mfa_verified:
        mfa_verify_session(session, user)
    return session


async def alert_socket(deployment_id: int, *, user=None, session: SessionStore | None = None):
    """Open /ws/deployments/<id>/alerts/ as `user` (a fresh verified session), with `session`, or anonymously.

    Returns (communicator, connected, close code)."""
    if user is not None:
        session = await sync_to_async(signed_in_session)(user)
    headers = [(b"origin", b"http://localhost")]
    if session is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/deployments/{deployment_id}/alerts/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code
