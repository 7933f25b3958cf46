"""The live alert socket refuses a role that needs MFA until its session has given a code."""

import pytest
from asgiref.sync import sync_to_async

from tests.conftest import mfa_verify_session
from tests.sockets import alert_socket, signed_in_session

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_commander_socket_needs_the_code(commander, live_deployment):
    session = await sync_to_async(signed_in_session)(commander, mfa_verified=False)
    _, connected, code = await alert_socket(live_deployment.pk, session=session)
    assert not connected and code == 4403

    await sync_to_async(mfa_verify_session)(session, commander)
    socket, connected, _ = await alert_socket(live_deployment.pk, session=session)
    assert connected and (await socket.receive_json_from(timeout=5))["access"] == "watch"
    await socket.disconnect()


async def test_officer_socket_needs_no_code(officer, live_deployment):
    session = await sync_to_async(signed_in_session)(officer, mfa_verified=False)
    socket, connected, _ = await alert_socket(live_deployment.pk, session=session)
    assert connected and (await socket.receive_json_from(timeout=5))["access"] == "adjudicate"
    await socket.disconnect()
