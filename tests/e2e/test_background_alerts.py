"""An officer's live page in a background tab still alerts them: the service worker shows the alert as a
notification (category and camera only: the lock screen is public), and only while the page is hidden.

Chromium hides a tab that is not in front, headless too, but a page Playwright launches stays "visible"
whatever is in front: Playwright turns on focus emulation for every page it drives
(Emulation.setFocusEmulationEnabled), and Chromium keeps an emulated page visible. Here Chromium is started
on its own and Playwright attaches over CDP with ``no_defaults=True``, which leaves the default context's pages
as they are: a new tab then hides the live page, as it would for the officer (document.visibilityState
"hidden", checked below). The live server and login are the e2e suite's (tests/e2e/conftest.py).

Web Push itself needs the browser's push service (FCM for Chromium), not reachable here: the server's side
of it is tested against a local stand-in in tests/notifications/test_alert_push.py.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, in_thread
from tests.notifications.push_keys import vapid_keys

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.getRegistration("/alerts/");
  const shown = registration ? await registration.getNotifications() : [];
  return shown.map((n) => ({tag: n.tag, title: n.title, body: n.body, image: n.image, icon: n.icon,
                            requireInteraction: n.requireInteraction, vibrate: Array.from(n.vibrate || []),
                            url: n.data && n.data.url}));
}"""


@pytest.fixture
def tabbed_browser():
    """Chromium with tabs that hide when another is in front, driven over CDP without Playwright's defaults."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make install-system installs it)")
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="lfr-e2e-chromium-"))
    process = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) == 2):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("chromium did not open its DevTools port")
            time.sleep(0.1)
        port, path = port_file.read_text().split()
        with sync_playwright() as playwright:
            browser = playwright.chromium.connect_over_cdp(f"ws://127.0.0.1:{port}{path}", no_defaults=True)
            yield browser
            browser.close()
    finally:
        process.terminate()
        process.wait(20)
        shutil.rmtree(profile, ignore_errors=True)


def test_a_background_tab_shows_the_alert_as_a_notification(tabbed_browser, login, asgi_server, officer,
                                                            live_deployment, raise_alert):
    context = tabbed_browser.contexts[0]
    live = context.new_page()
    live.set_default_timeout(15000)
    login(live, officer)
    live.goto(f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    expect(live.locator("#connection")).to_have_text("live")

    # Browsers ask for the permission only after a tap: the button; the test answers the browser's question.
    button = live.get_by_role("button", name="Enable background alerts")
    expect(button).to_be_visible()
    # As with Web Push configured (the page then carries the VAPID key: tests/notifications): this browser's
    # push service is out of reach here, so subscribing never finishes; the page must alert all the same.
    button.evaluate("(element, key) => { element.dataset.pushKey = key; }", vapid_keys().public)
    context.grant_permissions(["notifications"], origin=asgi_server)
    button.click()
    expect(live.get_by_test_id("background-status")).to_contain_text("Background alerts on")
    expect(button).to_be_hidden()

    # In front, the page itself shows the alert: no notification.
    first = in_thread(raise_alert, 0)
    expect(live.get_by_test_id("alert-card")).to_have_count(1)
    assert live.evaluate("document.visibilityState") == "visible"
    assert live.evaluate(NOTIFICATIONS) == []

    # Another tab in front: the live page is hidden, as when the officer switches app or locks the phone.
    other = context.new_page()
    other.goto(f"{asgi_server}/")
    other.bring_to_front()
    live.wait_for_function("() => document.visibilityState === 'hidden'", polling=100)

    second = in_thread(raise_alert, 1)
    # Polled, not per animation frame: a hidden tab draws no frames.
    live.wait_for_function(f"""async () => (await ({NOTIFICATIONS})()).some((n) => n.tag === "alert-{second.pk}")""",
                           polling=250)
    shown = live.evaluate(NOTIFICATIONS)
    assert [n["tag"] for n in shown] == [f"alert-{second.pk}"]  # the first, seen in front, is not notified
    notification = shown[0]
    assert notification["title"] == (f"Watchlist alert: {second.get_category_display()}, "
                                     f"camera {live_deployment.cameras.first().name}")
    text = notification["title"] + notification["body"]
    assert second.subject_name not in text and second.subject_reference not in text
    assert notification["image"] == "" and notification["icon"] == ""
    assert notification["requireInteraction"] is True and notification["vibrate"] == [300, 100, 300, 100, 600]
    assert notification["url"] == f"/alerts/deployments/{live_deployment.pk}/live/"
    assert first.pk != second.pk
    # The page heard it too: its card is there when the officer comes back.
    live.bring_to_front()
    expect(live.get_by_test_id("alert-card")).to_have_count(2)

    # Turned off: hidden again, a new alert reaches the page but raises no notification.
    live.get_by_role("button", name="Turn off background alerts").click()
    expect(live.get_by_test_id("background-status")).to_contain_text("Background alerts off")
    other.bring_to_front()
    live.wait_for_function("() => document.visibilityState === 'hidden'", polling=100)
    third = in_thread(raise_alert, 0)
    live.wait_for_function("() => document.querySelectorAll('[data-testid=alert-card]').length === 3", polling=250)
    assert [n["tag"] for n in live.evaluate(NOTIFICATIONS)] == [f"alert-{second.pk}"]
    assert third.pk > second.pk
