"""The live page's JSON endpoints for stage 2 and amendments (/alerts/<id>/engagement/ and
/alerts/<id>/adjudications/<id>/amend/): what its script posts, the card's payload back, refusals as 400s."""

import datetime as dt

import pytest
from django.urls import reverse

from alerts.models import AlertRecord
from alerts.payloads import image_age
from alerts.services import alert_adjudicate

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_the_card_records_a_stop_and_amends_the_decision(client_as, officer, raise_alert):
    client = client_as(officer)
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="not_a_match", notes="older man")
    engaged = _post(client, reverse("alerts:engagement", args=[alert.pk]), {
        "engaged": "yes", "identity_confirmed": "no", "stop_minutes": "5", "result": "no_further_action",
        "notes": "", "version": alert.version})
    assert engaged.status_code == 200, engaged.content
    card = engaged.json()["alert"]
    assert card["decision"]["decision"] == "Not a match" and card["decision"]["notes"] == "older man"
    assert (card["engagement"]["stop_minutes"], card["engagement"]["result_label"]) == (5, "No further action")
    amended = _post(client, card["decision"]["amend_url"], {"decision": "cannot_tell", "notes": "too dark",
                                                          "reason": "could not be sure", "version": card["version"]})
    assert amended.status_code == 200, amended.content
    card = amended.json()["alert"]
    assert (card["status"], card["decision"]["decision"], card["decision"]["amend_reason"]) == (
        "cannot_tell", "Cannot tell", "could not be sure")
    assert card["engagement"]["stop_minutes"] == 5  # stage 2 stays as recorded
    assert AlertRecord.objects.get(alert=alert).status == "cannot_tell"


@pytest.mark.parametrize("body, message", [
    ({"engaged": "maybe"}, "engaged must be yes or no"),
    ({"engaged": "yes", "identity_confirmed": "no", "stop_minutes": "ten"}, "stop minutes must be a whole number"),
    ({"engaged": ""}, "say whether the person was engaged"),
])
def test_bad_input_is_a_400_with_the_reason(client_as, officer, raise_alert, body, message):
    alert = alert_adjudicate(actor=officer, alert=raise_alert(), decision="confirmed")
    response = _post(client_as(officer), reverse("alerts:engagement", args=[alert.pk]), body)
    assert response.status_code == 400 and message in response.json()["errors"][0]


def test_the_card_shows_warnings_instructions_and_the_image_age(settings, client_as, officer, raise_alert):
    settings.REFERENCE_IMAGE_WARN_AGE_YEARS = 3
    alert = raise_alert()
    alert.__class__.objects.filter(pk=alert.pk).update(
        warning_markers=["violent", "weapons"], engagement_instructions="Approach in pairs",
        image_taken_on=dt.date(alert.created_at.year - 4, 1, 1))
    card = client_as(officer).get(reverse("alerts:deployment_alerts_json", args=[alert.deployment_id])).json()
    card = card["alerts"][0]
    assert card["warnings"] == ["Violent", "Weapons"] and card["engagement_instructions"] == "Approach in pairs"
    assert "4 years ago" in card["image_age"] and card["image_age_warning"] is True
    assert card["reference_face_url"].endswith("?crop=face")


@pytest.mark.parametrize("taken, text, old", [
    (None, "", False),
    (dt.date(2026, 6, 1), "taken 1 Jun 2026, less than a year ago", False),
    (dt.date(2024, 12, 2), "taken 2 Dec 2024, 1 year ago", False),
    (dt.date(2023, 12, 1), "taken 1 Dec 2023, 3 years ago – may no longer look like this", True),
])
def test_the_image_age_and_its_warning(settings, taken, text, old):
    settings.REFERENCE_IMAGE_WARN_AGE_YEARS = 3
    assert image_age(taken, today=dt.date(2026, 12, 1)) == (text, old)
