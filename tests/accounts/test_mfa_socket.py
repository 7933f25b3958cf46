"""The live alert socket refuses a role that needs MFA until its session has given a code."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from config.asgi import application
from tests.conftest import mfa_verify_session

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def password_only_session(user) -> SessionStore:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session


async def connect(session, deployment_id):
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()
    communicator = WebsocketCommunicator(application, f"/ws/deployments/{deployment_id}/alerts/",
                                         headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)])
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def test_commander_socket_needs_the_code(commander, live_deployment):
    session = await sync_to_async(password_only_session)(commander)
    _, connected, code = await connect(session, live_deployment.pk)
    assert not connected and code == 4403

    await sync_to_async(mfa_verify_session)(session, commander)
    socket, connected, _ = await connect(session, live_deployment.pk)
    assert connected and (await socket.receive_json_from(timeout=5))["access"] == "watch"
    await socket.disconnect()


async def test_officer_socket_needs_no_code(officer, live_deployment):
    session = await sync_to_async(password_only_session)(officer)
    socket, connected, _ = await connect(session, live_deployment.pk)
    assert connected and (await socket.receive_json_from(timeout=5))["access"] == "adjudicate"
    await socket.disconnect()
