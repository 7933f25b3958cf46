"""The test walk form on the live page (alerts:test_walk_record) and the TEST mark's place in the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alerts.models import TestWalk

pytestmark = pytest.mark.django_db


def _live(deployment):
    return reverse("alerts:live", kwargs={"deployment_id": deployment.pk})


def _record(deployment):
    return reverse("alerts:test_walk_record", kwargs={"deployment_id": deployment.pk})


def test_the_live_page_has_the_test_mark_and_the_walk_form(client_as, officer, test_subject_deployment):
    page = client_as(officer).get(_live(test_subject_deployment)).content.decode()
    assert 'data-testid="test-badge"' in page and 'data-testid="test-walk-form"' in page
    assert "PC Tess Walker (TEST-0001)" in page
    assert "Subject 0" not in page  # only test subjects are offered


def test_an_officer_records_a_walk_from_the_live_page(client_as, officer, test_subject_deployment):
    client = client_as(officer)
    response = client.post(_record(test_subject_deployment), {
        "camera": test_subject_deployment.cameras.first().pk, "subject": test_subject_deployment.test_subject.pk})
    assert response.status_code == 302 and response["Location"] == _live(test_subject_deployment)
    walk = TestWalk.objects.get()
    assert walk.recorded_by == officer and walk.subject == test_subject_deployment.test_subject
    page = client.get(_live(test_subject_deployment)).content.decode()
    assert 'data-testid="test-walk-list"' in page and "recorded" in page


def test_a_refused_walk_shows_the_page_again_with_the_reason(client_as, officer, test_subject_deployment):
    response = client_as(officer).post(_record(test_subject_deployment), {
        "camera": test_subject_deployment.cameras.first().pk, "subject": test_subject_deployment.test_subject.pk,
        "walked_at": "2020-01-01T09:00"})
    assert response.status_code == 400 and "while the deployment was live" in response.content.decode()
    assert not TestWalk.objects.exists()


def test_oversight_watches_without_the_form_and_may_not_post(client_as, oversight, test_subject_deployment):
    client = client_as(oversight)
    assert 'data-testid="test-walk-form"' not in client.get(_live(test_subject_deployment)).content.decode()
    response = client.post(_record(test_subject_deployment), {
        "camera": test_subject_deployment.cameras.first().pk, "subject": test_subject_deployment.test_subject.pk})
    assert response.status_code == 403 and not TestWalk.objects.exists()


def test_no_form_without_test_subjects(client_as, officer, live_deployment):
    assert 'data-testid="test-walk-form"' not in client_as(officer).get(_live(live_deployment)).content.decode()
