"""The two-stage outcome in Chromium: an alert arrives on the officer's live page, the officer decides "Not a
match" on the images (stage 1), records the engagement (stage 2: engaged, identity not confirmed, stopped 5
minutes, no further action), sees both on the card, amends the decision with a reason within the window, and
the statistics record shows the stop. One page load with the card is one alert.viewed event."""

import pytest
from playwright.sync_api import expect

from alerts.models import AlertRecord
from audit.models import AuditEvent
from tests.e2e.conftest import in_thread

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_decide_record_the_stop_and_amend(page, login, asgi_server, officer, live_deployment, raise_alert,
                                          violations):
    login(page, officer)
    page.goto(f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")

    alert = in_thread(raise_alert, 0)

    card = page.get_by_test_id("alert-card")
    expect(card).to_have_count(1)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=alert-card] img')]"
                           ".every((img) => img.complete && img.naturalWidth > 0)")
    card.locator("button.enlarge").first.click()  # the camera image, large
    dialog = page.get_by_test_id("image-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Stage 1: the images.
    card.locator(".notes").fill("Older man, different nose")
    card.get_by_role("button", name="Not a match").click()
    expect(card.get_by_test_id("saved-decision")).to_contain_text("Not a match – Older man, different nose")
    # Stage 2: the engagement, a stop of an innocent person.
    form = card.get_by_test_id("engagement-form")
    expect(form).to_be_visible()
    form.get_by_label("Engaged").select_option("yes")
    form.get_by_label("Identity confirmed").select_option("no")
    form.get_by_label("Stopped for (minutes)").fill("5")
    form.get_by_label("Result").select_option("no_further_action")
    form.get_by_role("button", name="Save engagement").click()
    saved = card.get_by_test_id("saved-engagement")
    expect(saved).to_contain_text("Engaged, identity not confirmed, stopped 5 min – No further action")
    expect(form).to_be_hidden()

    # The officer corrects stage 1 within the window, with a reason.
    card.get_by_role("button", name="Amend decision").click()
    card.get_by_label("Reason for the amendment").fill("Could not be sure in that light")
    card.locator(".notes").fill("Poor light")
    card.get_by_role("button", name="Cannot tell").click()
    expect(card.get_by_test_id("saved-decision")).to_contain_text("Cannot tell – Poor light")
    expect(card.get_by_test_id("saved-decision")).to_contain_text("amended: Could not be sure in that light")
    expect(saved).to_contain_text("stopped 5 min")

    record = AlertRecord.objects.get(alert=alert)
    assert (record.status, record.engaged, record.identity_confirmed, record.stop_minutes, record.result) == (
        "cannot_tell", True, False, 5, "no_further_action")
    assert AuditEvent.objects.filter(action="alert.decision_amended", actor=officer).count() == 1
    # Both faces shown and one enlarged: one view of the card, one event.
    assert AuditEvent.objects.filter(action="alert.viewed", target_id=str(alert.pk)).count() == 1

    page.reload()  # the saved decision and result show after a reload too
    expect(card.get_by_test_id("saved-decision")).to_contain_text("Cannot tell – Poor light")
    expect(card.get_by_test_id("saved-engagement")).to_contain_text("stopped 5 min")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=alert-card] img')]"
                           ".every((img) => img.complete && img.naturalWidth > 0)")
    assert AuditEvent.objects.filter(action="alert.viewed", target_id=str(alert.pk)).count() == 2  # a new view
    assert violations == []
