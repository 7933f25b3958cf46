"""POST /api/alerts/<id>/case-link/: an assigned officer links an alert to an ongoing case, which keeps it
beyond the retention period; audited (alert.case_linked)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from alerts.models import Alert
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _link(client, alert, body):
    return client.post(reverse("api:alert-case-link", kwargs={"pk": alert.pk}), body, format="json")


def test_an_assigned_officer_links_a_case(api_as, officer, raise_alert):
    alert = raise_alert()
    response = _link(api_as(officer), alert, {"case_reference": "  CASE/2026/0042 "})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == alert.pk and response.json()["case_reference"] == "CASE/2026/0042"
    assert Alert.objects.get(pk=alert.pk).case_reference == "CASE/2026/0042"
    event = AuditEvent.objects.get(action="alert.case_linked")
    assert event.actor == officer and event.target_id == str(alert.pk)
    assert event.details == {"case_reference": "CASE/2026/0042"}


@pytest.mark.parametrize("body, where", [({"case_reference": "   "}, "errors"), ({}, "case_reference"),
                                         ({"case_reference": "C" * 65}, "case_reference")])
def test_a_missing_or_overlong_reference_is_a_400(api_as, officer, raise_alert, body, where):
    alert = raise_alert()
    response = _link(api_as(officer), alert, body)
    assert response.status_code == 400 and where in response.json()
    assert Alert.objects.get(pk=alert.pk).case_reference == ""
    assert not AuditEvent.objects.filter(action="alert.case_linked").exists()


def test_an_unassigned_officer_finds_no_alert(api_as, make_user, raise_alert):
    alert = raise_alert()
    assert _link(api_as(make_user(Role.OFFICER)), alert, {"case_reference": "CASE/1"}).status_code == 404
    assert Alert.objects.get(pk=alert.pk).case_reference == ""


@pytest.mark.parametrize("role", ["commander", "oversight", "detective", "outsider"])
def test_roles_that_do_not_adjudicate_are_refused(request, api_as, role, raise_alert):
    alert = raise_alert()
    assert _link(api_as(request.getfixturevalue(role)), alert, {"case_reference": "CASE/1"}).status_code == 403
    assert not AuditEvent.objects.filter(action="alert.case_linked").exists()
