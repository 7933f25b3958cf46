"""The planning form's expected false alert rate follows the threshold as it is typed (static/js)."""

import pytest
from playwright.sync_api import expect

from recognition.calibration import threshold_expectation
from recognition.runtime import current_model_id

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_figure_and_table_follow_the_threshold(page, login, asgi_server, detective):
    login(page, detective)
    page.goto(f"{asgi_server}/deployments/new/")
    panel = page.get_by_test_id("calibration")
    expect(panel.locator("[data-calib-threshold]")).to_have_text("0.45")

    page.fill("input[name=threshold]", "0.36")
    expected = threshold_expectation(model_id=current_model_id(), threshold=0.36)
    expect(panel.locator("[data-calib-threshold]")).to_have_text("0.36")
    expect(panel.locator("[data-calib-per1000]")).to_have_text(f"{expected.per_1000:.1f}")
    expect(panel.locator("[data-calib-count]")).to_have_text(str(expected.false_alerts))
    expect(panel.locator("[data-calib-tpir]")).to_have_text(f"{expected.tpir_percent:.1f}%")
    rows = panel.locator("[data-calib-rows] tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(2).locator("td").first).to_have_text("0.36")
    above = threshold_expectation(model_id=current_model_id(), threshold=0.41)
    expect(rows.nth(3).locator("td").nth(1)).to_have_text(f"{above.per_1000:.1f}")


def test_the_figure_per_passer_by_follows_the_threshold_too(page, login, asgi_server, detective):
    from tests.factories import stored_walkby_calibration

    for device in ("cpu", "cuda"):  # whichever device the server's settings give its workers
        stored_walkby_calibration(current_model_id(), device)
    login(page, detective)
    page.goto(f"{asgi_server}/deployments/new/")
    panel = page.get_by_test_id("calibration-walkby")
    expect(panel.locator("[data-walkby-per1000]")).to_have_text("13.3")  # 6 of 450 at 0.45
    expect(panel.locator("[data-walkby-groups-stale]")).to_be_hidden()

    page.fill("input[name=threshold]", "0.52")  # read at 0.50: 2 of 450; TPIR above the curve is unknown
    expect(panel.locator("[data-walkby-threshold]")).to_have_text("0.52")
    expect(panel.locator("[data-walkby-per1000]")).to_have_text("4.4")
    expect(panel.locator("[data-walkby-count]")).to_have_text("2")
    expect(panel.locator("[data-walkby-tpir]")).to_have_text("unknown")
    expect(panel.locator("[data-walkby-groups-stale]")).to_be_visible()  # the table by group is still at 0.45
    page.fill("input[name=threshold]", "0.42")
    expect(panel.locator("[data-walkby-per1000]")).to_have_text("20.0")  # 9 of 450 at 0.40
    expect(panel.locator("[data-walkby-tpir]")).to_have_text("80.0%")  # 120 of 150 at 0.45
