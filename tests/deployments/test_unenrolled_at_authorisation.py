"""Subjects without an image enrolled with the current model, at authorisation: the authorising officer is shown
them, the decision's audit event and the snapshot record them, and the snapshot says why it holds fewer subjects
than the manifest."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from deployments.models import WatchlistSnapshot
from deployments.services import deployment_authorise
from tests.factories import approved_watchlist, enrolled_subject, make_subject, submitted_deployment, video_camera

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(detective, commander):
    subjects = [enrolled_subject(detective, 0), make_subject(detective, reference="NOIMG-1", name="Without Image")]
    watchlist = approved_watchlist(detective, commander, subjects)
    return submitted_deployment(detective, watchlist, [video_camera(detective)])


def test_the_authorising_officer_is_shown_them_and_the_record_keeps_them(client_as, commander, deployment):
    client = client_as(commander)
    page = client.get(reverse("deployments:detail", args=[deployment.pk])).content.decode()
    assert 'data-testid="unenrolled-warning"' in page and "Without Image (NOIMG-1)" in page

    response = client.post(reverse("deployments:authorise", args=[deployment.pk]), {"reasons": "Necessary"})
    assert response.status_code == 302
    details = AuditEvent.objects.get(action="deployment.authorised").details
    assert details["without_enrolled_image"] == 1 and details["without_enrolled_image_references"] == ["NOIMG-1"]
    snapshot = WatchlistSnapshot.objects.get(deployment=deployment)
    assert snapshot.subject_count == 1 and snapshot.unenrolled_references == ["NOIMG-1"]
    assert deployment.manifest.count() == 2

    page = client.get(reverse("deployments:detail", args=[deployment.pk])).content.decode()
    assert 'data-testid="snapshot-unenrolled"' in page and "NOIMG-1" in page
    assert 'data-testid="unenrolled-warning"' not in page  # decided: the warning was for the decision


def test_the_api_says_who_was_left_out(api_as, commander, deployment):
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary")
    snapshot = api_as(commander).get(f"/api/deployments/{deployment.pk}/").json()["snapshot"]
    assert snapshot["subject_count"] == 1 and snapshot["unenrolled_references"] == ["NOIMG-1"]
