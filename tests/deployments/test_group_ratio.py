"""DEPLOYMENT_MAX_GROUP_RATIO: a threshold whose false alert rates per passer-by differ too much between groups is
refused when it is set (create, update, the API) and at authorisation, and the page says why."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import RuleViolation
from deployments.models import Deployment
from deployments.services import (
    deployment_authorisation_problems,
    deployment_authorise,
    deployment_create,
    deployment_update,
)
from recognition.runtime import current_model_id
from tests.factories import approved_watchlist, enrolled_subject, stored_walkby_calibration, submitted_deployment, video_camera

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def walkby(settings):
    """At 0.45: female 4 of 225 against male 2 of 225 (ratio 2.0); Asian 4 of 90, White 2 of 270, Black 0 of 90
    (unresolved; at least 44.4 / 32.7 = 1.36). At 0.50: 1 of 225 each (ratio 1.0)."""
    settings.RECOGNITION_DEVICE = "cpu"
    settings.DEPLOYMENT_MAX_GROUP_RATIO = None
    stored_walkby_calibration(current_model_id(), "cpu")


@pytest.fixture
def watchlist(detective, commander):
    return approved_watchlist(detective, commander, [enrolled_subject(detective, i) for i in range(2)])


def values(watchlist, camera, **overrides) -> dict:
    starts_at = timezone.now() + dt.timedelta(hours=1)
    return {"name": "High Street Saturday", "purpose": "crime_hotspot", "location": "High Street",
                "location_reason": "Robbery hotspot", "starts_at": starts_at, "ends_at": starts_at + dt.timedelta(hours=4),
                "watchlist": watchlist, "cameras": [camera], "necessity_statement": "Serious robbery series",
                "dpia_reference": "DPIA-2026-07", "signage_confirmed": True, "public_notice_confirmed": True} | overrides


def test_off_by_default_any_ratio_is_allowed(detective, watchlist):
    deployment = deployment_create(actor=detective, threshold=0.45, **values(watchlist, video_camera(detective)))
    assert deployment.threshold == 0.45


def test_a_resolved_ratio_above_the_maximum_refuses_the_threshold_naming_grouping_groups_and_ratio(
        settings, detective, watchlist):
    settings.DEPLOYMENT_MAX_GROUP_RATIO = 1.5
    with pytest.raises(RuleViolation) as refused:
        deployment_create(actor=detective, threshold=0.45, **values(watchlist, video_camera(detective)))
    [reason] = refused.value.messages  # race's lower bound, 1.36, is within 1.5
    assert "between sex groups by 2.0 times" in reason and "female: 17.8 per 1,000; male: 8.9 per 1,000" in reason
    assert "maximum ratio of 1.5" in reason and "DEPLOYMENT_MAX_GROUP_RATIO" in reason
    assert not Deployment.objects.exists() and not AuditEvent.objects.filter(action="deployment.created").exists()
    # at 0.50 both sexes have 1 of 225
    assert deployment_create(actor=detective, threshold=0.50, **values(watchlist, video_camera(detective, "B")))


def test_an_unresolved_ratio_refuses_when_its_lower_bound_is_above_the_maximum(settings, detective, watchlist):
    settings.DEPLOYMENT_MAX_GROUP_RATIO = 1.3
    with pytest.raises(RuleViolation) as refused:
        deployment_create(actor=detective, threshold=0.45, **values(watchlist, video_camera(detective)))
    race = [m for m in refused.value.messages if "race" in m]
    assert len(race) == 1 and "by at least 1.4 times" in race[0] and "Black: 0 of 90" in race[0]
    assert "not resolved" in race[0]


def test_changing_the_threshold_to_a_refused_one_is_refused_but_other_edits_are_not(settings, detective, watchlist):
    deployment = deployment_create(actor=detective, threshold=0.45, **values(watchlist, video_camera(detective)))
    settings.DEPLOYMENT_MAX_GROUP_RATIO = 1.5  # switched on after it was drafted
    renamed = deployment_update(actor=detective, deployment=deployment, expected_version=deployment.version,
                                changes={"name": "High Street Sunday"})
    assert renamed.name == "High Street Sunday"
    with pytest.raises(RuleViolation, match="between sex groups"):
        deployment_update(actor=detective, deployment=renamed, expected_version=renamed.version,
                          changes={"threshold": 0.46})
    assert Deployment.objects.get(pk=deployment.pk).threshold == 0.45


def test_authorisation_refuses_a_threshold_the_maximum_refuses(settings, detective, commander, watchlist):
    deployment = submitted_deployment(detective, watchlist, [video_camera(detective)], threshold=0.45)
    settings.DEPLOYMENT_MAX_GROUP_RATIO = 1.5
    problems = deployment_authorisation_problems(deployment=deployment)
    assert any("between sex groups by 2.0 times" in p for p in problems)
    with pytest.raises(RuleViolation, match="between sex groups"):
        deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    assert Deployment.objects.get(pk=deployment.pk).state == Deployment.State.SUBMITTED
    settings.DEPLOYMENT_MAX_GROUP_RATIO = 2.5
    assert deployment_authorise(actor=commander, deployment=deployment, reasons="ok").state == Deployment.State.AUTHORISED


def test_the_page_shows_the_refusal_beside_the_figure(settings, client_as, detective, commander, watchlist):
    deployment = submitted_deployment(detective, watchlist, [video_camera(detective)], threshold=0.45)
    settings.DEPLOYMENT_MAX_GROUP_RATIO = 1.5
    text = client_as(commander).get(reverse("deployments:detail", args=[deployment.pk])).content.decode()
    panel = text[text.index('data-testid="ratio-problems"'):]
    assert "Refused: at threshold 0.45 the false alert rate per passer-by differs between sex groups" in panel
    assert "(largest ratio allowed: 1.5)" in text
    checklist = text[text.index('data-testid="checklist"'):text.index('data-testid="calibration"')]
    assert "between sex groups by 2.0 times" in checklist


def test_the_api_refuses_it_as_the_form_does(settings, api_as, detective, watchlist, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path
    settings.DEPLOYMENT_MAX_GROUP_RATIO = 1.5
    starts_at = timezone.now() + dt.timedelta(hours=1)
    response = api_as(detective).post("/api/deployments/", {
        "name": "High Street Saturday", "purpose": "crime_hotspot", "location": "High Street",
        "location_reason": "Robbery hotspot", "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + dt.timedelta(hours=4)).isoformat(), "watchlist": watchlist.pk,
        "cameras": [video_camera(detective).pk], "necessity_statement": "Serious robbery series",
        "dpia_reference": "DPIA-2026-07", "threshold": 0.45}, format="json")
    assert response.status_code == 400 and "between sex groups by 2.0 times" in str(response.json())
