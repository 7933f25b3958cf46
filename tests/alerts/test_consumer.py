"""The live alert socket over the real Redis channel layer, with real sessions."""

import pytest
from asgiref.sync import sync_to_async

from accounts.roles import Role
from tests.sockets import alert_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_assigned_officer_receives_new_alerts(officer, live_deployment, raise_alert):
    socket, connected, _ = await alert_socket(live_deployment.pk, user=officer)
    assert connected
    assert (await socket.receive_json_from(timeout=5))["access"] == "adjudicate"

    alert = await sync_to_async(raise_alert)(0)

    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "alert.created"
    assert message["alert"]["id"] == alert.pk and message["alert"]["subject"]["name"] == "Subject 0"
    assert message["alert"]["probe_url"].endswith(f"/alerts/{alert.pk}/probe.jpg")
    await socket.disconnect()


async def test_outsiders_are_refused_and_hear_nothing(make_user, outsider, live_deployment, raise_alert, officer):
    other_officer = await sync_to_async(make_user)(Role.OFFICER)
    for user in (outsider, other_officer, None):
        socket, connected, code = await alert_socket(live_deployment.pk, user=user)
        assert not connected and code == 4403

    listener, connected, _ = await alert_socket(live_deployment.pk, user=officer)
    await listener.receive_json_from(timeout=5)  # hello
    # An officer of another deployment is refused here; an assigned one still hears the alert.
    await sync_to_async(raise_alert)(0)
    assert (await listener.receive_json_from(timeout=5))["type"] == "alert.created"
    await listener.disconnect()


async def test_unassigned_deployment_socket_hears_nothing(officer, commander, live_deployment, raise_alert):
    """A commander watching deployment A hears nothing about alerts of deployment B."""
    from tests.factories import submitted_deployment

    other = await sync_to_async(lambda: submitted_deployment(live_deployment.created_by, live_deployment.watchlist,
                                                             list(live_deployment.cameras.all()), name="Other"))()
    socket, connected, _ = await alert_socket(other.pk, user=commander)
    assert connected
    assert (await socket.receive_json_from(timeout=5))["access"] == "watch"
    await sync_to_async(raise_alert)(0)
    assert await socket.receive_nothing(timeout=1)
    await socket.disconnect()


async def test_reconnecting_page_gets_every_alert_it_missed(officer, live_deployment, raise_alert):
    first = await sync_to_async(raise_alert)(0)
    second = await sync_to_async(raise_alert)(1)
    socket, connected, _ = await alert_socket(live_deployment.pk, user=officer)
    await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "resume"})
    snapshot = await socket.receive_json_from(timeout=5)
    assert snapshot["type"] == "alerts.snapshot"
    assert [a["id"] for a in snapshot["alerts"]] == [first.pk, second.pk]
    await socket.disconnect()


async def test_adjudication_is_pushed_to_everyone_watching(officer, commander, oversight, live_deployment, raise_alert):
    from alerts.services import alert_adjudicate

    alert = await sync_to_async(raise_alert)(0)
    watchers = []
    for user in (commander, oversight):
        socket, connected, _ = await alert_socket(live_deployment.pk, user=user)
        assert connected and (await socket.receive_json_from(timeout=5))["access"] == "watch"
        watchers.append(socket)
    await sync_to_async(alert_adjudicate)(actor=officer, alert=alert, decision="not_a_match", notes="Different man")
    for socket in watchers:
        message = await socket.receive_json_from(timeout=5)
        assert message["type"] == "alert.updated" and message["alert"]["status"] == "not_a_match"
        await socket.disconnect()


async def test_a_socket_does_not_outlive_its_session(settings, officer, live_deployment, raise_alert):
    """Whatever the browser does, the server stops sending once the session has ended."""
    from django.contrib.sessions.models import Session

    from tests.sockets import signed_in_session

    settings.ALERT_SOCKET_RECHECK_SECONDS = 0
    session = await sync_to_async(signed_in_session)(officer)
    socket, connected, _ = await alert_socket(live_deployment.pk, session=session)
    assert connected and (await socket.receive_json_from(timeout=5))["type"] == "hello"

    await sync_to_async(Session.objects.filter(session_key=session.session_key).delete)()  # signed out elsewhere
    await sync_to_async(raise_alert)(0)

    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_a_socket_closes_when_the_officer_is_taken_off_the_deployment(settings, officer, live_deployment,
                                                                           raise_alert):
    settings.ALERT_SOCKET_RECHECK_SECONDS = 0
    socket, connected, _ = await alert_socket(live_deployment.pk, user=officer)
    assert connected and (await socket.receive_json_from(timeout=5))["type"] == "hello"

    await sync_to_async(live_deployment.officers.remove)(officer)
    await sync_to_async(raise_alert)(0)

    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_within_the_recheck_interval_an_ended_session_is_not_reread(settings, officer, live_deployment,
                                                                         raise_alert):
    """The price of the recheck is bounded: at most one session read per socket per interval."""
    from django.contrib.sessions.models import Session

    from tests.sockets import signed_in_session

    settings.ALERT_SOCKET_RECHECK_SECONDS = 3600
    session = await sync_to_async(signed_in_session)(officer)
    socket, connected, _ = await alert_socket(live_deployment.pk, session=session)
    await socket.receive_json_from(timeout=5)
    await sync_to_async(Session.objects.filter(session_key=session.session_key).delete)()
    await sync_to_async(raise_alert)(0)
    assert (await socket.receive_json_from(timeout=5))["type"] == "alert.created"
    await socket.disconnect()


async def test_an_idle_socket_still_hears_the_next_alert(officer, live_deployment, raise_alert):
    """Quiet streets are the normal case: a socket idle longer than the channel layer's 5 s blocking read
    must stay up (redis-py 8 reads with a 5 s socket timeout by default, which tore such sockets down)."""
    import asyncio

    socket, connected, _ = await alert_socket(live_deployment.pk, user=officer)
    assert connected and (await socket.receive_json_from(timeout=5))["type"] == "hello"
    await asyncio.sleep(12)
    assert await socket.receive_nothing(timeout=0.1)  # no close, no error in the meantime
    alert = await sync_to_async(raise_alert)(0)
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "alert.created" and message["alert"]["id"] == alert.pk
    await socket.disconnect()


async def test_an_alert_whose_broadcast_was_lost_reaches_an_open_socket_by_catch_up(officer, live_deployment,
                                                                                    raise_alert):
    """Redis restarted while the page stayed connected: it forgot the group's members, so the broadcast
    reaches no one. The page's periodic catch-up still brings the alert, and re-joins the group."""
    import redis
    from django.conf import settings

    from alerts.broadcast import deployment_group

    socket, connected, _ = await alert_socket(live_deployment.pk, user=officer)
    hello = await socket.receive_json_from(timeout=5)
    assert hello["catch_up_seconds"] == settings.ALERT_LIVE_CATCH_UP_SECONDS
    await socket.send_json_to({"type": "resume"})
    snapshot = await socket.receive_json_from(timeout=5)
    assert snapshot["alerts"] == [] and snapshot["cursor"]

    client = redis.Redis.from_url(settings.REDIS_URL)
    assert await sync_to_async(client.delete)(f"asgi:group:{deployment_group(live_deployment.pk)}") == 1
    lost = await sync_to_async(raise_alert)(0)
    assert await socket.receive_nothing(timeout=1)  # the doorbell rang for no one

    await socket.send_json_to({"type": "catch_up", "cursor": snapshot["cursor"]})
    caught_up = await socket.receive_json_from(timeout=5)
    assert caught_up["type"] == "alerts.catch_up" and [a["id"] for a in caught_up["alerts"]] == [lost.pk]
    assert caught_up["cursor"]

    second = await sync_to_async(raise_alert)(1)  # back in the group: the next broadcast is heard again
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "alert.created" and message["alert"]["id"] == second.pk
    await socket.disconnect()


async def test_a_catch_up_brings_decisions_made_since_the_last_one(officer, live_deployment, raise_alert):
    from alerts.services import alert_adjudicate

    alert = await sync_to_async(raise_alert)(0)
    socket, _, _ = await alert_socket(live_deployment.pk, user=officer)
    await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "resume"})
    cursor = (await socket.receive_json_from(timeout=5))["cursor"]
    await sync_to_async(alert_adjudicate)(actor=officer, alert=alert, decision="not_a_match")
    assert (await socket.receive_json_from(timeout=5))["type"] == "alert.updated"

    await socket.send_json_to({"type": "catch_up", "cursor": cursor})
    caught_up = await socket.receive_json_from(timeout=5)
    assert [(a["id"], a["status"], a["version"]) for a in caught_up["alerts"]] == [(alert.pk, "not_a_match", 2)]
    await socket.disconnect()
