"""In Chromium: an administrator adds a user through the confirm step; the 404 page is the portal's; the browser
finds the favicon; no page breaks the Content-Security-Policy."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_administrator_adds_a_user_after_confirming(page, login, asgi_server, administrator, violations):
    failed = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    login(page, administrator)
    page.goto(f"{asgi_server}/accounts/users/")
    page.locator("summary", has_text="Add a user").click()
    form = page.get_by_test_id("user-create")
    form.locator("#id_username").fill("pc_green")
    form.locator("#id_password").fill("a-long-first-password-7")
    form.get_by_label("Officer", exact=True).check()
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_test_id("user-create")).to_contain_text("tick the box to confirm")
    assert not get_user_model().objects.filter(username="pc_green").exists()

    page.get_by_test_id("user-create").locator("#id_password").fill("a-long-first-password-7")
    page.get_by_test_id("user-create").locator("input[name=confirm]").check()
    page.get_by_test_id("user-create").get_by_role("button", name="Add user").click()
    expect(page.locator("h1")).to_have_text("pc_green")
    assert list(get_user_model().objects.get(username="pc_green").groups.values_list("name", flat=True)) == ["officer"]

    failed.clear()  # the refused form above answered 400 on purpose
    response = page.goto(f"{asgi_server}/no/such/page/")
    assert response.status == 404
    expect(page.get_by_test_id("not-found")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_text(administrator.username)
    page.goto(f"{asgi_server}/accounts/users/")
    assert page.request.get(f"{asgi_server}/favicon.ico").ok
    assert [url for url in failed if "no/such/page" not in url] == []  # no favicon or stylesheet 404
    assert violations == []
