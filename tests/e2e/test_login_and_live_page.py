import re

import pytest
from playwright.sync_api import expect

from alerts.models import Alert
from audit.models import AuditEvent
from tests.e2e.conftest import in_thread

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_sign_in_shows_the_role_navigation(page, login, detective):
    login(page, detective)
    expect(page.get_by_test_id("current-user")).to_have_text("Sam Smith")
    assert AuditEvent.objects.filter(action="auth.login", actor=detective).exists()


def test_officer_sees_an_alert_arrive_and_decides_it(page, login, asgi_server, officer, live_deployment, raise_alert):
    login(page, officer)
    page.goto(f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")

    alert = in_thread(raise_alert, 0)

    card = page.get_by_test_id("alert-card")
    expect(card).to_have_count(1)
    expect(card.locator(".name")).to_have_text("Subject 0")
    page.wait_for_function("() => document.querySelector('[data-testid=alert-card] img.probe').naturalWidth > 0")
    card.locator(".notes").fill("Spoke to him: a different man")
    card.get_by_role("button", name="Not a match").click()
    expect(card.locator(".status")).to_contain_text(re.compile("Not a match"))

    assert Alert.objects.get(pk=alert.pk).status == "not_a_match"
    actions = list(AuditEvent.objects.filter(target_id=str(alert.pk), target_type="alerts.alert")
                   .values_list("action", flat=True))
    assert actions[0] == "alert.created" and "alert.viewed" in actions and actions[-1] == "alert.adjudicated"


def test_reconnected_page_shows_alerts_raised_while_away(page, login, asgi_server, officer, live_deployment,
                                                         raise_alert):
    first = in_thread(raise_alert, 0)
    login(page, officer)
    page.goto(f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    expect(page.get_by_test_id("alert-card")).to_have_count(1)
    page.context.set_offline(True)
    second = in_thread(raise_alert, 1)
    page.context.set_offline(False)
    page.reload()
    expect(page.get_by_test_id("alert-card")).to_have_count(2)
    ids = page.eval_on_selector_all("[data-testid=alert-card]", "cards => cards.map(c => Number(c.dataset.alertId))")
    assert ids == [second.pk, first.pk]
