"""Live testing with consenting test subjects, end to end in Chromium: the test subject's alert arrives on the
officer's live page marked TEST, the officer decides it, records the test walk, and the commander's report of
the deployment shows its measured live TPIR."""

import re

import pytest
from playwright.sync_api import expect

from alerts.models import Alert, TestWalk
from audit.models import AuditEvent
from tests.e2e.conftest import in_thread

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_test_walk_is_alerted_marked_test_decided_and_counted(browser, page, login, asgi_server, officer,
                                                                commander, test_subject_deployment,
                                                                raise_subject_alert, violations):
    deployment = test_subject_deployment
    login(page, officer)
    page.goto(f"{asgi_server}/alerts/deployments/{deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")

    real = in_thread(raise_subject_alert, deployment, deployment.real_subject, track_id=1)
    test = in_thread(raise_subject_alert, deployment, deployment.test_subject, track_id=2)

    cards = page.get_by_test_id("alert-card")
    expect(cards).to_have_count(2)
    test_card = page.locator(f'[data-alert-id="{test.pk}"]')
    real_card = page.locator(f'[data-alert-id="{real.pk}"]')
    expect(test_card.get_by_test_id("test-badge")).to_be_visible()
    expect(test_card.get_by_test_id("test-badge")).to_have_text("TEST")
    expect(test_card).to_have_class(re.compile(r"\btest-alert\b"))
    expect(real_card.get_by_test_id("test-badge")).to_be_hidden()
    expect(real_card).not_to_have_class(re.compile(r"\btest-alert\b"))

    test_card.locator(".notes").fill("Our test walker, PC Walker")
    test_card.get_by_role("button", name="Match", exact=True).click()
    expect(test_card.locator(".status")).to_contain_text("Match")
    assert Alert.objects.get(pk=test.pk).status == "confirmed"

    form = page.get_by_test_id("test-walk-form")
    form.get_by_label("Camera").select_option(label="Camera 1")
    form.get_by_label("Test subject").select_option(label="PC Tess Walker (TEST-0001)")
    form.get_by_role("button", name="Record test walk").click()
    expect(page.get_by_test_id("test-walk-list")).to_contain_text("TEST-0001")
    walk = TestWalk.objects.get()
    assert walk.recorded_by == officer and walk.deployment_id == deployment.pk
    assert AuditEvent.objects.filter(action="test_walk.recorded", actor=officer).exists()
    assert violations == []  # the TEST mark and the walk form keep to the Content-Security-Policy

    context = browser.new_context()
    try:
        report = login(context.new_page(), commander)
        report.goto(f"{asgi_server}/reports/deployments/{deployment.pk}/")
        expect(report.locator('[data-figure="live_tpir"]')).to_have_text(
            "1 of 1 test walks alerted (100.0%; 95% interval 2.5% to 100.0%)")
        expect(report.locator('[data-figure="test_alerts"]')).to_have_text("1")
    finally:
        context.close()
