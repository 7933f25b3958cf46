"""The public page in a real browser, without signing in: an announced deployment, a past one's record with its
figures, and the printable notice for the site (print styles applied, no CSP violation)."""

import pytest
from playwright.sync_api import expect

from reports.selectors import deployment_figures_published
from tests.e2e.conftest import in_thread
from tests.public_world import SUBJECT_NAME, build_public_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_public_reads_the_notices_and_records_and_prints_the_signage(page, asgi_server, violations, detective,
                                                                         commander, officer):
    world = in_thread(build_public_world, detective, commander, officer)
    figures = in_thread(deployment_figures_published, deployment_id=world.completed.pk)

    page.goto(f"{asgi_server}/public/")
    assert "/accounts/login/" not in page.url
    upcoming = page.locator(f'[data-testid=upcoming-entry][data-deployment="{world.upcoming.pk}"]')
    expect(upcoming).to_be_visible()
    expect(upcoming.locator("[data-field=area]")).to_have_text(world.upcoming.location)
    expect(upcoming.locator("[data-field=purpose]")).to_have_text("Crime hotspot")
    record = page.locator(f'[data-testid=record-entry][data-deployment="{world.completed.pk}"]')
    expect(record.locator("[data-figure=faces]")).to_have_text("1234")
    expect(record.locator("[data-figure=tracks]")).to_have_text("87")
    expect(record.locator("[data-figure=alerts]")).to_have_text(str(figures.alerts))
    expect(record.locator("[data-figure=false_alerts]")).to_have_text(str(figures.outcomes.not_a_match))
    expect(page.locator(f'[data-deployment="{world.draft.pk}"]')).to_have_count(0)
    assert SUBJECT_NAME not in page.content()
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    upcoming.get_by_test_id("signage-link").click()
    page.wait_for_url(f"{asgi_server}/public/{world.upcoming.pk}/notice/")
    signage = page.get_by_test_id("signage")
    expect(signage.locator("h1")).to_have_text("Police are using live facial recognition in this area")
    expect(signage.locator("[data-field=area]")).to_have_text(world.upcoming.location)
    expect(signage).to_contain_text("not on the watchlist are deleted immediately")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this notice")).to_be_hidden()
    expect(signage).to_be_visible()
    assert violations == []
