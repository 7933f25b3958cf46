import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from alerts.models import AlertRecord

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def in_thread(function, *args):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


def test_details_go_with_the_decision(page, login, asgi_server, officer, live_deployment, raise_alert):
    login(page, officer)
    page.goto(f"{asgi_server}/alerts/deployments/{live_deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")
    first = in_thread(raise_alert, 0)
    card = page.get_by_test_id("alert-card")
    expect(card).to_have_count(1)
    card.locator("summary").click()
    card.locator("select.ethnicity").select_option("IC5")
    card.locator("select.age-band").select_option("25_34")
    card.locator("select.result").select_option("arrested")
    card.get_by_role("button", name="Not a match").click()
    expect(card.locator(".status")).to_contain_text(re.compile("Not a match"))
    record = AlertRecord.objects.get(alert_id=first.pk)
    assert (record.ethnicity, record.age_band, record.perceived_sex, record.result) == ("IC5", "25_34", "", "")
    second = in_thread(raise_alert, 1)
    expect(page.get_by_test_id("alert-card")).to_have_count(2)
    card2 = page.locator(f'[data-alert-id="{second.pk}"]')
    card2.locator("summary").click()
    card2.locator("select.engaged").select_option("no")
    card2.locator("select.result").select_option("arrested")
    card2.get_by_role("button", name="Confirmed").click()
    expect(card2.locator(".error")).to_contain_text("only when the person was engaged")
    page.screenshot(path="/tmp/reports_live.png", full_page=True)
