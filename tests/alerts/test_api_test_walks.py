"""/api/deployments/<id>/test-walks: record a consenting test subject's walk, list a deployment's walks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import TestWalk
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _url(deployment):
    return reverse("api:deployment-test-walks", kwargs={"pk": deployment.pk})


def _body(deployment, **overrides):
    return {"camera": deployment.cameras.first().pk, "subject": deployment.test_subject.pk} | overrides


def test_an_assigned_officer_records_a_walk(api_as, officer, test_subject_deployment):
    walked_at = timezone.now() - dt.timedelta(minutes=2)
    response = api_as(officer).post(_url(test_subject_deployment),
                                    _body(test_subject_deployment, walked_at=walked_at.isoformat()), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    walk = TestWalk.objects.get()
    assert body["id"] == walk.pk and body["subject_reference"] == "TEST-0001" and body["recorded_by"] == "pc_brown"
    assert walk.walked_at == walked_at and walk.camera == test_subject_deployment.cameras.first()
    assert AuditEvent.objects.filter(action="test_walk.recorded", actor=officer).exists()


def test_a_rule_refusal_is_a_400_in_words(api_as, officer, test_subject_deployment):
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    response = api_as(officer).post(_url(test_subject_deployment), _body(test_subject_deployment, walked_at=future),
                                    format="json")
    assert response.status_code == 400 and "not in the future" in response.json()["errors"][0]
    assert not TestWalk.objects.exists()


def test_a_subject_who_is_not_a_test_subject_is_not_found(api_as, officer, test_subject_deployment):
    response = api_as(officer).post(_url(test_subject_deployment),
                                    _body(test_subject_deployment, subject=test_subject_deployment.real_subject.pk),
                                    format="json")
    assert response.status_code == 404 and not TestWalk.objects.exists()


@pytest.mark.parametrize("role", ["oversight", "detective", "outsider"])
def test_roles_that_do_not_operate_the_deployment_are_refused(request, api_as, role, test_subject_deployment):
    response = api_as(request.getfixturevalue(role)).post(_url(test_subject_deployment),
                                                          _body(test_subject_deployment), format="json")
    assert response.status_code == 403 and not TestWalk.objects.exists()


def test_the_list_shows_the_walks_in_a_fixed_number_of_queries(api_as, officer, oversight, test_subject_deployment):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts import services

    def walk(minutes):
        services.test_walk_record(actor=officer, deployment=test_subject_deployment,
                                  camera=test_subject_deployment.cameras.first(),
                                  subject=test_subject_deployment.test_subject,
                                  walked_at=timezone.now() - dt.timedelta(minutes=minutes))

    api = api_as(oversight)  # read-only: oversight sees the walks, does not record them
    walk(5)
    api.get(_url(test_subject_deployment))
    with CaptureQueriesContext(connection) as one:
        api.get(_url(test_subject_deployment))
    walk(4)
    walk(3)
    with CaptureQueriesContext(connection) as three:
        response = api.get(_url(test_subject_deployment))
    assert len(three) == len(one)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["subject_reference"] for r in rows] == ["TEST-0001"] * 3
    assert rows[0]["walked_at"] < rows[2]["walked_at"]
