"""In Chromium: the Content-Security-Policy (core/csp.py) is enforced, and no page of the portal breaks it."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import in_thread, password_step
from tests.factories import enrolled_subject

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.ok, (url, response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"], url


def test_the_browser_enforces_the_policy(page, asgi_server, violations):
    visit(page, f"{asgi_server}/accounts/login/")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.inlineRan = true";
        document.body.append(script);
        document.body.insertAdjacentHTML("beforeend", '<p id="styled" style="color: rgb(255, 0, 0)">x</p>');
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.inlineRan === undefined")
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    assert any("script-src" in v for v in violations) and any("style-src" in v for v in violations), violations


def test_the_commanders_pages_break_nothing(page, login, asgi_server, commander, live_deployment, raise_alert,
                                            violations):
    login(page, commander)
    visit(page, f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")  # the websocket: connect-src 'self'
    in_thread(raise_alert, 0)
    card = page.get_by_test_id("alert-card")
    expect(card).to_have_count(1)
    page.wait_for_function("() => document.querySelector('[data-testid=alert-card] img.probe').naturalWidth > 0")

    for path in [f"/deployments/{live_deployment.pk}/", "/deployments/authorisations/", "/watchlists/approvals/",
                 f"/reports/deployments/{live_deployment.pk}/", f"/reports/{timezone.localdate().year}/"]:
        visit(page, f"{asgi_server}{path}")
    expect(page.locator("svg.chart").first).to_be_visible()  # the hand-written SVG charts

    visit(page, f"{asgi_server}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LFR Portal API")  # the split init script ran
    assert violations == []


def test_the_detectives_pages_break_nothing(page, login, asgi_server, detective, violations):
    subject = enrolled_subject(detective, 0)
    login(page, detective)
    for path in ["/", "/watchlists/", "/watchlists/subjects/", "/watchlists/subjects/new/",
                 f"/watchlists/subjects/{subject.pk}/", f"/watchlists/subjects/{subject.pk}/edit/",
                 "/deployments/", "/deployments/new/", "/deployments/cameras/"]:
        visit(page, f"{asgi_server}{path}")
    visit(page, f"{asgi_server}/watchlists/subjects/{subject.pk}/")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    visit(page, f"{asgi_server}/deployments/new/")
    page.fill("input[name=threshold]", "0.36")  # static/js/threshold_calibration.js
    expect(page.get_by_test_id("calibration").locator("[data-calib-threshold]")).to_have_text("0.36")
    assert violations == []


def test_the_overseers_pages_and_the_mfa_qr_code_break_nothing(page, asgi_server, oversight, violations):
    visit(page, f"{asgi_server}/accounts/login/")
    password_step(page, oversight)
    page.wait_for_url(re.compile(r".*/accounts/mfa/enrol/.*"))
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    for path in ["/audit/", "/watchlists/subject-access/", "/reports/",
                 f"/reports/{timezone.localdate().year}/{timezone.localdate().month}/"]:
        page.goto(f"{asgi_server}{path}")  # MFA not set up yet: each answers with the enrolment page
    assert violations == []


def test_the_overseers_pages_after_sign_in_break_nothing(page, login, asgi_server, oversight, violations):
    login(page, oversight)
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    for path in ["/audit/", "/watchlists/subject-access/?q=PNC", "/reports/",
                 f"/reports/{last_month.year}/{last_month.month}/"]:
        visit(page, f"{asgi_server}{path}")
    assert violations == []
