"""The false alerts per passer-by (walk-by calibration) on the planning form and the decision, and their record."""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from deployments.models import Deployment, DeploymentAuthorisation
from deployments.services import deployment_authorise
from recognition.calibration import threshold_expectation
from recognition.runtime import current_model_id
from tests.factories import approved_watchlist, enrolled_subject, stored_walkby_calibration, submitted_deployment, video_camera

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cpu_workers(settings):
    settings.RECOGNITION_DEVICE = "cpu"


@pytest.fixture
def submitted(detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    watchlist = approved_watchlist(detective, commander, subjects)
    return submitted_deployment(detective, watchlist, [video_camera(detective)], threshold=0.47)


def html(response) -> str:
    return response.content.decode()


def test_the_decision_shows_false_alerts_per_passer_by_first_then_per_face_image(client_as, commander, submitted):
    stored = stored_walkby_calibration(current_model_id(), "cpu")
    text = html(client_as(commander).get(reverse("deployments:detail", args=[submitted.pk])))
    # 0.47 is read at 0.45: 6 of 450 passers-by (13.3 per 1,000), TPIR at 0.50: 90 of 150
    figure = re.search(r'data-testid="walkby-figure">(.*?)</p>', text, re.S).group(1)
    assert "about\n    <strong><span data-walkby-per1000>13.3</span> false alerts per 1,000 passers-by</strong> not on the " \
           "watchlist" in figure
    assert "<span data-walkby-count>6</span> of 450" in figure and "60.0%" in figure
    assert f"stored walk-by calibration {stored.pk}" in text and "CPU workers" in text
    per_image = threshold_expectation(model_id=current_model_id(), threshold=0.47)
    assert f"{per_image.per_1000:.1f}</span> per 1,000</strong> face images" in text
    assert text.index('data-testid="walkby-figure"') < text.index('data-testid="calibration-figure"')


def test_the_decision_shows_false_alerts_by_group_and_the_largest_ratio(client_as, commander, submitted):
    stored_walkby_calibration(current_model_id(), "cpu")
    text = html(client_as(commander).get(reverse("deployments:detail", args=[submitted.pk])))
    sex = re.search(r'data-testid="walkby-group-sex">(.*?)</table>', text, re.S).group(1)
    assert re.search(r"<td>female</td><td class=\"num\">4 of 225</td>\s*<td class=\"num\">17.8</td>", sex)
    assert re.search(r"<td>male</td><td class=\"num\">2 of 225</td>\s*<td class=\"num\">8.9</td>", sex)
    ratio = re.search(r'data-testid="walkby-ratio-sex">(.*?)</p>', text, re.S).group(1)
    assert "<strong>2.0</strong> (female / male)" in ratio
    race = re.search(r'data-testid="walkby-ratio-race">(.*?)</p>', text, re.S).group(1)
    assert "not resolved" in race and "Black has 0 of 90" in race


def test_without_a_walk_by_calibration_the_page_says_so_and_shows_the_figure_per_face_image(
        client_as, commander, submitted, no_packaged_walkby_calibration):
    stored_walkby_calibration(current_model_id(), "cuda")  # another device's figure does not apply
    text = html(client_as(commander).get(reverse("deployments:detail", args=[submitted.pk])))
    assert (f"No walk-by calibration for model <code>{current_model_id()}</code> on CPU workers: the false alert rate "
            "per passer-by at this threshold is unknown, and only the figure per face image is shown") in text
    assert 'data-testid="walkby-figure"' not in text and 'data-testid="calibration-figure"' in text


def test_the_authorisation_records_the_figure_per_passer_by_and_by_group(client_as, commander, submitted):
    stored = stored_walkby_calibration(current_model_id(), "cpu")
    client = client_as(commander)
    page = client.get(reverse("deployments:detail", args=[submitted.pk]))
    response = client.post(reverse("deployments:authorise", args=[submitted.pk]),
                           {"reasons": "Necessary and proportionate", "calibration": page.context["calibration"]["key"]})
    assert response.status_code == 302
    recorded = AuditEvent.objects.get(action="deployment.authorised").details["expected_per_passerby"]
    assert recorded["source"] == "stored" and recorded["calibration_id"] == stored.pk and recorded["device"] == "cpu"
    assert recorded["per_1000"] == pytest.approx(1000 * 6 / 450) and recorded["false_alerts"] == 6
    assert recorded["tpir"] == pytest.approx(0.6) and recorded["fpir_read_at"] == 0.45
    assert recorded["group_counts"]["sex"] == {"female": [4, 225], "male": [2, 225]}
    assert recorded["largest_ratios"]["sex"]["ratio"] == pytest.approx(2.0)
    assert recorded["largest_ratios"]["race"]["ratio"] is None and "not resolved" in recorded["largest_ratios"]["race"]["note"]
    authorisation = DeploymentAuthorisation.objects.get(deployment=submitted)
    assert authorisation.expected_per_passerby == recorded
    assert authorisation.expected_false_alerts["source"] == "packaged"  # the per-image figure is kept beside it
    cell = re.search(r'data-testid="expected-per-passerby">(.*?)</td>',
                     html(client.get(reverse("deployments:detail", args=[submitted.pk]))), re.S).group(1)
    assert cell.startswith("13.3 (at most ") and "TPIR 60%" in cell


def test_a_walk_by_calibration_that_arrived_after_the_page_loaded_is_not_authorised(client_as, commander, submitted):
    client = client_as(commander)
    shown = client.get(reverse("deployments:detail", args=[submitted.pk])).context["calibration"]["key"]
    stored_walkby_calibration(current_model_id(), "cpu")  # measured while the officer was reading
    response = client.post(reverse("deployments:authorise", args=[submitted.pk]),
                           {"reasons": "Necessary and proportionate", "calibration": shown})
    assert response.status_code == 409 and "reload the page" in html(response)
    assert "<span data-walkby-per1000>13.3</span>" in html(response)  # the page now shows the new figure
    assert Deployment.objects.get(pk=submitted.pk).state == Deployment.State.SUBMITTED
    assert not AuditEvent.objects.filter(action="deployment.authorised").exists()


def test_a_newer_walk_by_calibration_after_the_page_loaded_is_not_authorised_either(client_as, commander, submitted):
    stored_walkby_calibration(current_model_id(), "cpu")
    client = client_as(commander)
    shown = client.get(reverse("deployments:detail", args=[submitted.pk])).context["calibration"]["key"]
    stored_walkby_calibration(current_model_id(), "cpu", points=[(0.45, 20, 120, {})])
    response = client.post(reverse("deployments:authorise", args=[submitted.pk]),
                           {"reasons": "Necessary and proportionate", "calibration": shown})
    assert response.status_code == 409
    assert DeploymentAuthorisation.objects.filter(deployment=submitted).count() == 0


def test_an_authorisation_without_a_walk_by_calibration_records_that_it_was_unknown(commander, submitted,
                                                                                   no_packaged_walkby_calibration):
    deployment_authorise(actor=commander, deployment=submitted, reasons="ok")
    recorded = AuditEvent.objects.get(action="deployment.authorised").details["expected_per_passerby"]
    assert recorded == {"kind": "walkby", "model_id": current_model_id(), "device": "cpu", "threshold": 0.47,
                        "source": None, "note": f"no walk-by calibration for model {current_model_id()} on cpu: the "
                                                "false alert rate per passer-by at this threshold is unknown"}


def test_the_planning_form_carries_the_walk_by_curve_for_the_threshold_as_typed(client_as, detective):
    stored_walkby_calibration(current_model_id(), "cpu")
    page = html(client_as(detective).get(reverse("deployments:create")))
    assert "data-walkby-curve=" in page and "<span data-walkby-per1000>13.3</span>" in page  # default 0.45
    assert "data-walkby-groups-stale hidden" in page


def test_the_shipped_walk_by_calibration_is_the_figure_per_passer_by_for_cpu_workers(client_as, commander, submitted):
    """The packaged curve measured with evaluate_live for the shipped model (docs/evaluation.md)."""
    from recognition.evaluation.walkby_calibration import packaged_walkby_calibration

    shipped = packaged_walkby_calibration(current_model_id(), "cpu")
    assert shipped is not None and shipped["nonmated_passersby"] >= 2500 and shipped["child_entries"]["offset"] > 0
    page = client_as(commander).get(reverse("deployments:detail", args=[submitted.pk]))
    walkby = page.context["calibration"]["walkby"]
    assert walkby.source == "packaged" and walkby.known and walkby.device == "cpu"
    assert f"{shipped['nonmated_passersby']:,}" in html(page)  # the reference set is named
