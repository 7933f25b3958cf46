"""In Chromium: the subject form shows the chosen category's rules, and the approval page shows each subject's
photo and asks before approving; neither breaks the Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import in_thread
from tests.factories import enrolled_subject
from watchlists.models import Watchlist
from watchlists.services import watchlist_create, watchlist_subjects_add, watchlist_submit

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_form_shows_the_rules_of_the_chosen_category(page, login, asgi_server, detective, violations):
    login(page, detective)
    page.goto(f"{asgi_server}/watchlists/subjects/new/")
    rules = page.get_by_test_id("category-rules")
    page.select_option("select[name=category]", "missing_at_risk")
    expect(rules.locator('[data-category="missing_at_risk"]')).to_be_visible()
    expect(rules.locator('[data-category="wanted_by_courts"]')).to_be_hidden()
    expect(rules).to_contain_text("Kept at most 30 days")
    assert violations == []


def test_the_approver_sees_the_photo_and_confirms(page, login, asgi_server, detective, commander, violations):
    def submitted():
        subject = enrolled_subject(detective, 0)
        watchlist = watchlist_create(actor=detective, name="Op Browser", purpose="p")
        watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
        return watchlist_submit(actor=detective, watchlist=watchlist)

    watchlist = in_thread(submitted)
    login(page, commander)
    page.goto(f"{asgi_server}/watchlists/{watchlist.pk}/approve/")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    page.check("input[name=confirmed]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Approve version {watchlist.version}").click()
    expect(page.get_by_test_id("watchlist-status")).to_have_text("Approved")
    assert in_thread(lambda: Watchlist.objects.get(pk=watchlist.pk).status) == Watchlist.Status.APPROVED
    assert violations == []
