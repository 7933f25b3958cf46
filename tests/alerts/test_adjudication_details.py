"""The optional details an officer records with a stage-1 decision: the perceived demographics of the person
behind a false alert. Validated in the service, refused with a clear 400. (The engagement, stage 2:
test_engagement_record.py.)"""

import pytest
from django.urls import reverse

from accounts.roles import Role
from alerts.demographics import Ethnicity
from alerts.models import Alert, AlertRecord
from alerts.services import alert_adjudicate
from audit.models import AuditEvent
from core.errors import RuleViolation

pytestmark = pytest.mark.django_db


def test_false_alert_demographics_are_recorded(officer, raise_alert):
    alert = raise_alert()
    alert_adjudicate(actor=officer, alert=alert, decision="not_a_match",
                     demographics={"ethnicity": "IC4", "perceived_sex": "female", "age_band": "35_49"})
    adjudication = alert.adjudications.get()
    assert adjudication.demographics == {"ethnicity": "IC4", "perceived_sex": "female", "age_band": "35_49"}
    record = AlertRecord.objects.get(alert=alert)
    assert (record.status, record.ethnicity, record.perceived_sex, record.age_band) == (
        "not_a_match", "IC4", "female", "35_49")
    assert record.first_decided_at == adjudication.decided_at
    assert AuditEvent.objects.get(action="alert.adjudicated").details["demographics"]["ethnicity"] == "IC4"


def test_blank_demographics_are_not_recorded(officer, raise_alert):
    alert = raise_alert()
    alert_adjudicate(actor=officer, alert=alert, decision="not_a_match",
                     demographics={"ethnicity": "", "perceived_sex": None, "age_band": "unknown"})
    assert alert.adjudications.get().demographics == {"age_band": "unknown"}


@pytest.mark.parametrize("demographics,message", [
    ({"ethnicity": "IC7"}, "'IC7' is not a code for officer-defined ethnicity: use one of IC1, IC2"),
    ({"ethnicity": "White"}, "not a code for officer-defined ethnicity"),
    ({"age_band": 30}, "not a code for perceived age band"),
    ({"perceived_sex": "M"}, "use one of male, female, unknown"),
    ({"name": "John Smith"}, "unknown demographics field 'name'"),
    (["IC1"], "demographics must be given as named fields"),
])
def test_unknown_fields_and_codes_are_refused(officer, raise_alert, demographics, message):
    alert = raise_alert()
    with pytest.raises(RuleViolation, match=message):
        alert_adjudicate(actor=officer, alert=alert, decision="not_a_match", demographics=demographics)
    assert Alert.objects.get(pk=alert.pk).status == "pending" and not alert.adjudications.exists()


@pytest.mark.parametrize("decision", ["confirmed", "cannot_tell"])
def test_demographics_only_with_not_a_match(officer, raise_alert, decision):
    with pytest.raises(RuleViolation, match="only when the alert was not a match"):
        alert_adjudicate(actor=officer, alert=raise_alert(), decision=decision, demographics={"ethnicity": "IC1"})


def test_second_officer_overturning_a_confirmation_keeps_their_details(settings, officer, make_user,
                                                                      live_deployment, raise_alert):
    settings.ALERT_TWO_PERSON_CONFIRMATION = True
    second = make_user(Role.OFFICER)
    live_deployment.officers.add(second)
    kept, overturned = raise_alert(0), raise_alert(1)
    for alert in (kept, overturned):
        alert_adjudicate(actor=officer, alert=alert, decision="confirmed")
        assert AlertRecord.objects.get(alert=alert).status == "awaiting_verification"
    alert_adjudicate(actor=second, alert=kept, decision="confirmed")
    alert_adjudicate(actor=second, alert=overturned, decision="not_a_match", demographics={"ethnicity": "IC6"})
    kept_record, overturned_record = AlertRecord.objects.get(alert=kept), AlertRecord.objects.get(alert=overturned)
    assert (kept_record.status, kept_record.ethnicity) == ("confirmed", "")
    assert (overturned_record.status, overturned_record.ethnicity) == ("not_a_match", "IC6")
    first_decision = overturned.adjudications.filter(kind="decision").get().decided_at
    assert overturned_record.first_decided_at == first_decision


def test_endpoint_takes_the_details_and_answers_400_with_the_reason(client_as, officer, raise_alert):
    client = client_as(officer)
    alert = raise_alert()
    url = reverse("alerts:adjudicate", args=[alert.pk])
    bad = client.post(url, {"decision": "not_a_match", "demographics": {"ethnicity": "IC8"}},
                      content_type="application/json")
    assert bad.status_code == 400 and "use one of IC1" in bad.json()["errors"][0]
    garbled = client.post(url, b"{not json", content_type="application/json")
    assert garbled.status_code == 400
    good = client.post(url, {"decision": "cannot_tell", "notes": "too dark", "version": alert.version},
                       content_type="application/json")
    assert good.status_code == 200 and good.json()["alert"]["status"] == "cannot_tell"
    assert good.json()["alert"]["decision"]["notes"] == "too dark"


def test_a_plain_form_post_sends_the_fields_flat(client_as, officer, raise_alert):
    alert = raise_alert()
    response = client_as(officer).post(reverse("alerts:adjudicate", args=[alert.pk]), {
        "decision": "not_a_match", "ethnicity": "IC9", "perceived_sex": "unknown", "age_band": ""})
    assert response.status_code == 200
    assert alert.adjudications.get().demographics == {"ethnicity": "IC9", "perceived_sex": "unknown"}


def test_live_page_offers_the_codes_from_the_one_list(client_as, officer, live_deployment):
    html = client_as(officer).get(reverse("alerts:live", args=[live_deployment.pk])).content.decode()
    for value, label in Ethnicity.choices:
        assert f'<option value="{value}">{label}</option>' in html
    assert 'class="result"' in html and 'value="arrested"' in html
