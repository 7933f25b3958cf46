"""In a real browser: the live page across a session that ends, and the two-factor step at sign-in."""

import re

import pytest
from django.contrib.sessions.models import Session
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import totp_code
from tests.e2e.conftest import code_step, in_thread, password_step

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def end_sessions_of(user) -> None:
    """The server forgets the user's sessions (expired and cleared, or signed out elsewhere)."""
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


def open_live_page(page, asgi_server, deployment):
    page.clock.install()  # real time flows; fast_forward() stands in for minutes of watching
    page.goto(f"{asgi_server}/alerts/deployments/{deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads


def signed_out_meanwhile(page, user, raise_alert):
    """The session ends; the page's next keep-alive ping finds out; an alert is raised while away."""
    end_sessions_of(user)
    page.clock.fast_forward("05:01")
    banner = page.get_by_test_id("signed-out")
    expect(banner).to_be_visible()
    expect(page.locator("#connection")).to_have_text("signed out")
    alert = in_thread(raise_alert, 0)
    page.wait_for_timeout(1000)
    expect(page.get_by_test_id("alert-card")).to_have_count(0)  # a signed-out page hears nothing
    return alert, banner


def test_officer_signs_in_again_in_another_tab_and_the_page_gets_the_alert_it_missed(
        page, login, asgi_server, officer, live_deployment, raise_alert):
    login(page, officer)
    open_live_page(page, asgi_server, live_deployment)
    alert, banner = signed_out_meanwhile(page, officer, raise_alert)

    other_tab = page.context.new_page()
    login(other_tab, officer)
    page.clock.fast_forward(6000)  # the signed-out page asks every 5 s whether the session is back

    cards = page.get_by_test_id("alert-card")
    expect(cards).to_have_count(1)
    assert cards.first.get_attribute("data-alert-id") == str(alert.pk)
    expect(banner).to_have_count(0)
    expect(page.locator("#connection")).to_have_text("live")
    assert page.evaluate("window.loadedOnce") is True  # the same page: no reload, nothing typed lost


def test_commander_signs_in_again_from_the_banner_with_a_code_and_is_back_on_the_live_page(
        page, login, asgi_server, commander, live_deployment, raise_alert):
    login(page, commander)
    open_live_page(page, asgi_server, live_deployment)
    alert, banner = signed_out_meanwhile(page, commander, raise_alert)

    banner.get_by_role("link", name="Sign in again").click()
    password_step(page, commander)
    code_step(page, commander)

    page.wait_for_url(f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    cards = page.get_by_test_id("alert-card")
    expect(cards).to_have_count(1)
    assert cards.first.get_attribute("data-alert-id") == str(alert.pk)


def test_first_sign_in_of_an_mfa_role_sets_up_the_authenticator_from_a_qr_code(page, asgi_server, oversight):
    page.goto(f"{asgi_server}/accounts/login/")
    password_step(page, oversight)

    page.wait_for_url(re.compile(r".*/accounts/mfa/enrol/.*"))
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("mfa-secret").inner_text()
    device = TOTPDevice.objects.get(user=oversight, confirmed=False)
    assert len(secret.replace(" ", "")) == 32  # 20 random bytes in base32, for typing in by hand
    page.fill("#id_token", totp_code(device))
    page.click("form:has(#id_token) button[type=submit]")

    page.wait_for_url(f"{asgi_server}/")
    expect(page.get_by_test_id("current-user")).to_be_visible()
    assert TOTPDevice.objects.get(user=oversight).confirmed
