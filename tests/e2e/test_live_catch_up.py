"""The officer's live page while its socket stays open but a broadcast is lost (a Redis restart forgets the
channel group's members): the page's periodic catch-up from PostgreSQL shows the alert, and shows it once."""

import json

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from alerts.broadcast import deployment_group
from tests.e2e.conftest import in_thread

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_alert_whose_broadcast_was_lost_shows_once_on_the_open_page(page, login, asgi_server, officer,
                                                                       live_deployment, raise_alert):
    caught_up = []  # the ids in each catch-up answer the page received

    def on_socket(socket):
        def on_frame(payload):
            message = json.loads(payload)
            if message.get("type") == "alerts.catch_up":
                caught_up.append([a["id"] for a in message["alerts"]])
        socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    login(page, officer)
    page.goto(f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")  # joined the group before the socket opened
    group = f"asgi:group:{deployment_group(live_deployment.pk)}"
    # As a Redis restart would: the open socket no longer hears broadcasts.
    assert redis.Redis.from_url(settings.REDIS_URL).delete(group) == 1

    alert = in_thread(raise_alert, 0)

    card = page.get_by_test_id("alert-card")
    expect(card).to_have_count(1, timeout=3 * 1000 * settings.ALERT_LIVE_CATCH_UP_SECONDS)
    assert card.get_attribute("data-alert-id") == str(alert.pk)
    # Later catch-ups bring the same alert again (they overlap): still one card.
    deadline_ms, waited = 3 * 1000 * settings.ALERT_LIVE_CATCH_UP_SECONDS, 0
    while sum(alert.pk in ids for ids in caught_up) < 2 and waited < deadline_ms:
        page.wait_for_timeout(250)  # poll: the browser's events are handled while it waits
        waited += 250
    assert sum(alert.pk in ids for ids in caught_up) >= 2
    expect(card).to_have_count(1)
