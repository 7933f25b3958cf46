"""The deployment page's authorise button: disabled with the checklist's failures beside it, enabled when clean (the
service refuses the same either way); and the link to the live page for those who may watch its alerts."""

import re

import pytest
from django.urls import reverse

from deployments.models import DeploymentDocument
from deployments.services import deployment_authorise, deployments_tick
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(detective, commander):
    subjects = [enrolled_subject(detective, 0)]
    return submitted_deployment(detective, approved_watchlist(detective, commander, subjects), [video_camera(detective)])


def authorise_button(page: str) -> str:
    return re.search(r'<button[^>]*data-testid="authorise-button"[^>]*>', page).group(0)


def test_the_button_is_disabled_and_says_why(client_as, commander, submitted):
    DeploymentDocument.objects.filter(deployment=submitted, kind="eia").delete()
    client = client_as(commander)
    page = client.get(reverse("deployments:detail", args=[submitted.pk])).content.decode()
    assert " disabled" in authorise_button(page)
    blocked = page[page.index('data-testid="authorise-blocked"'):]
    assert "no equality impact assessment (EIA) has been uploaded" in blocked[:2000]
    # The server refuses the same when the form is posted anyway.
    response = client.post(reverse("deployments:authorise", args=[submitted.pk]), {"reasons": "ok"})
    assert response.status_code == 400
    assert submitted.authorisations.count() == 0


def test_the_button_is_enabled_when_the_checklist_is_clean(client_as, commander, submitted):
    page = client_as(commander).get(reverse("deployments:detail", args=[submitted.pk])).content.decode()
    assert "disabled" not in authorise_button(page)
    assert 'data-testid="authorise-blocked"' not in page


def test_the_live_page_link_for_those_who_watch_its_alerts(client_as, commander, detective, officer, submitted):
    submitted.officers.set([officer])
    detail = reverse("deployments:detail", args=[submitted.pk])
    assert 'data-testid="live-link"' not in client_as(commander).get(detail).content.decode()  # not live yet
    deployment_authorise(actor=commander, deployment=submitted, reasons="ok")
    deployments_tick(now=submitted.starts_at)
    live = reverse("alerts:live", args=[submitted.pk])
    for user in (commander, officer):
        page = client_as(user).get(detail).content.decode()
        assert f'href="{live}" data-testid="live-link"' in page
    assert 'data-testid="live-link"' not in client_as(detective).get(detail).content.decode()
