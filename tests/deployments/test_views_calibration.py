"""The expected false alert rate on the planning form and the authorising officer's decision, and its record."""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from deployments.models import Deployment, DeploymentAuthorisation
from deployments.services import deployment_authorise
from recognition.calibration import model_calibration_store, threshold_expectation
from recognition.evaluation.calibration import fpir_upper_bound
from recognition.runtime import current_model_id
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera

# The figure per face image, as shown where no walk-by calibration is shipped (test_views_walkby_calibration.py has the rest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_packaged_walkby_calibration")]
OTHER_MODEL = "other_model-0123456789ab"


@pytest.fixture
def submitted(detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    watchlist = approved_watchlist(detective, commander, subjects)
    return submitted_deployment(detective, watchlist, [video_camera(detective)], threshold=0.47)


def stored_calibration(model_id, *, at_045: int):
    """A distinctive curve: ``at_045`` false alerts of 2,000 at 0.45, fewer above."""
    def point(threshold, false_alerts, true_alerts):
        return {"threshold": threshold, "false_alerts": false_alerts, "fpir": false_alerts / 2000,
                "fpir_upper": fpir_upper_bound(false_alerts, 2000), "true_alerts": true_alerts,
                "tpir": true_alerts / 400}
    return model_calibration_store(actor=None, calibration={
        "model_id": model_id, "dataset": "force-custody-2026", "probes": "cctv", "label_fixes": None, "flip": False,
        "gallery_size": 3000, "mated_searches": 400, "nonmated_searches": 2000, "measured_on": "2026-03-01",
        "command": "manage.py evaluate_watchlist --dataset /data/force-custody-2026 --degrade cctv",
        "curve": [point(0.40, at_045 * 3, 390), point(0.45, at_045, 380), point(0.50, 2, 340),
                  point(0.55, 1, 300)]})


def html(response) -> str:
    return response.content.decode()


def test_the_decision_shows_the_expected_false_alert_rate_for_the_model_in_use(client_as, commander, submitted):
    page = client_as(commander).get(reverse("deployments:detail", args=[submitted.pk]))
    expected = threshold_expectation(model_id=current_model_id(), threshold=0.47)
    assert expected.known  # the shipped model's packaged calibration
    text = html(page)
    assert current_model_id() in text and "at threshold <strong data-calib-threshold>0.47</strong>" in text
    assert f"{expected.per_1000:.1f}</span> per 1,000" in text
    assert f"{expected.false_alerts}</span> of {expected.calibration['nonmated_searches']:,}" in text
    assert f"{expected.tpir_percent:.1f}%" in text and "packaged with this software" in text
    rows = [row.threshold for row in page.context["calibration"]["rows"]]
    assert rows == pytest.approx([0.37, 0.42, 0.47, 0.52, 0.57])
    assert f'name="calibration" value="{expected.key}"' in text


def test_a_stored_calibration_is_the_figure_shown(client_as, commander, submitted):
    stored_calibration(current_model_id(), at_045=14)
    text = html(client_as(commander).get(reverse("deployments:detail", args=[submitted.pk])))
    # 0.47 lies between 0.45 and 0.50: the higher rate, 14 of 2,000, is the one shown.
    assert "7.0</span> per 1,000" in text and "14</span> of 2,000" in text and "stored calibration" in text
    assert "force-custody-2026" in text and "85.0%" in text  # TPIR read at 0.50: 340 of 400


def test_without_a_calibration_for_the_model_the_page_warns(client_as, commander, submitted, monkeypatch):
    monkeypatch.setattr("recognition.runtime.current_model_id", lambda: OTHER_MODEL)
    text = html(client_as(commander).get(reverse("deployments:detail", args=[submitted.pk])))
    assert (f"No calibration for model <code>{OTHER_MODEL}</code>: the false alert rate at this threshold is unknown"
            in text)


def test_the_authorisation_records_the_figure_it_was_shown(client_as, commander, submitted):
    stored_calibration(current_model_id(), at_045=14)
    client = client_as(commander)
    page = client.get(reverse("deployments:detail", args=[submitted.pk]))
    shown = page.context["calibration"]["expectation"]
    response = client.post(reverse("deployments:authorise", args=[submitted.pk]),
                           {"reasons": "Necessary and proportionate", "calibration": shown.key})
    assert response.status_code == 302
    details = AuditEvent.objects.get(action="deployment.authorised").details
    recorded = details["expected_false_alerts"]
    assert recorded["model_id"] == details["model_id"] == current_model_id()
    assert recorded["per_1000"] == pytest.approx(7.0) and recorded["false_alerts"] == 14
    assert recorded["threshold"] == 0.47 and recorded["source"] == "stored"
    assert recorded["calibration_id"] == shown.calibration_id and recorded["reference"]["nonmated_searches"] == 2000
    # The authorisation record keeps it too, and the deployment page shows it to whoever reviews the decision.
    authorisation = DeploymentAuthorisation.objects.get(deployment=submitted)
    assert authorisation.expected_false_alerts == recorded and authorisation.model_id == current_model_id()
    cell = re.search(r'data-testid="expected-false-alerts">(.*?)</td>',
                     html(client.get(reverse("deployments:detail", args=[submitted.pk]))), re.S).group(1)
    assert cell.startswith("7.0 (at most ") and current_model_id() in cell


def test_a_figure_that_changed_after_the_page_loaded_is_not_authorised(client_as, commander, submitted):
    client = client_as(commander)
    shown = client.get(reverse("deployments:detail", args=[submitted.pk])).context["calibration"]["expectation"]
    stored_calibration(current_model_id(), at_045=40)  # measured again while the officer was reading
    response = client.post(reverse("deployments:authorise", args=[submitted.pk]),
                           {"reasons": "Necessary and proportionate", "calibration": shown.key})
    assert response.status_code == 409 and "expected false alert rate has changed" in html(response)
    assert "20.0</span> per 1,000" in html(response)  # the page now shows the new figure
    assert Deployment.objects.get(pk=submitted.pk).state == Deployment.State.SUBMITTED
    assert not AuditEvent.objects.filter(action="deployment.authorised").exists()


def test_an_authorisation_without_a_page_still_records_the_figure(commander, submitted):
    deployment_authorise(actor=commander, deployment=submitted, reasons="ok")  # as the API does: no key sent
    recorded = AuditEvent.objects.get(action="deployment.authorised").details["expected_false_alerts"]
    expected = threshold_expectation(model_id=current_model_id(), threshold=0.47)
    assert recorded["source"] == "packaged" and recorded["false_alerts"] == expected.false_alerts


def test_an_authorisation_without_a_calibration_records_that_the_rate_was_unknown(
        client_as, commander, submitted, monkeypatch):
    monkeypatch.setattr("recognition.calibration.packaged_calibration", lambda model_id: None)
    client = client_as(commander)
    shown = client.get(reverse("deployments:detail", args=[submitted.pk])).context["calibration"]["expectation"]
    assert shown.source is None
    response = client.post(reverse("deployments:authorise", args=[submitted.pk]),
                           {"reasons": "ok", "calibration": shown.key})
    assert response.status_code == 302
    recorded = AuditEvent.objects.get(action="deployment.authorised").details["expected_false_alerts"]
    assert recorded == {"model_id": current_model_id(), "threshold": 0.47, "source": None,
                        "note": f"no calibration for model {current_model_id()}: the false alert rate at this "
                                "threshold is unknown"}


def test_the_planning_form_shows_the_figure_for_the_threshold_chosen(client_as, detective):
    client = client_as(detective)
    page = client.get(reverse("deployments:create"))
    default = threshold_expectation(model_id=current_model_id(), threshold=0.45)
    assert f"{default.per_1000:.1f}</span> per 1,000" in html(page) and "data-calibration-curve=" in html(page)
    assert "js/threshold_calibration.js" in html(page)

    stored_calibration(current_model_id(), at_045=14)
    refused = client.post(reverse("deployments:create"), {"threshold": "0.40"})  # incomplete: shown again
    assert refused.status_code == 400
    assert "at threshold <strong data-calib-threshold>0.40</strong>" in html(refused)
    assert "21.0</span> per 1,000" in html(refused)  # 42 of 2,000 at 0.40
