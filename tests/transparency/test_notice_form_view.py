"""The portal's public notice form, linked from the deployment page: who may write it, and bad input as 400."""

import pytest
from django.urls import reverse

from deployments.models import Deployment
from transparency.models import PublicNotice

pytestmark = pytest.mark.django_db

GOOD = {"area": "Market Square, north side", "purpose": "To find people wanted for robbery",
        "more_info": "Ask at Central police station", "more_info_url": "https://police.example/lfr"}


def test_the_deployment_page_links_to_the_form(client_as, detective, draft):
    html = client_as(detective).get(reverse("deployments:detail", args=[draft.pk])).content.decode()
    assert reverse("transparency:notice_edit", args=[draft.pk]) in html


def test_the_planner_sees_the_defaults_then_writes_the_notice(client_as, detective, draft, settings):
    client = client_as(detective)
    url = reverse("transparency:notice_edit", args=[draft.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "No notice written yet" in html and draft.location in html and settings.PUBLIC_NOTICE_CONTACT in html
    assert page.context["form"]["area"].value() == draft.location  # the form starts from the defaults

    response = client.post(url, GOOD)
    assert response.status_code == 302 and response["Location"] == url
    notice = PublicNotice.objects.get(deployment=draft)
    assert (notice.area, notice.more_info_url, notice.published_by) == (GOOD["area"], GOOD["more_info_url"], detective)
    assert "Market Square, north side" in client.get(url).content.decode()


def test_a_bad_address_is_a_400_with_the_reason(client_as, detective, draft):
    response = client_as(detective).post(reverse("transparency:notice_edit", args=[draft.pk]),
                                          GOOD | {"more_info_url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert "http:// or https://" in response.content.decode()
    assert not PublicNotice.objects.exists()


def test_an_officer_reads_but_may_not_write(client_as, officer, draft):
    draft.officers.set([officer])
    client = client_as(officer)
    url = reverse("transparency:notice_edit", args=[draft.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="notice-refusal"' in page.content.decode()
    assert client.post(url, GOOD).status_code == 403
    assert not PublicNotice.objects.exists()


def test_after_the_end_the_form_is_closed(client_as, commander, draft):
    Deployment.objects.filter(pk=draft.pk).update(state=Deployment.State.COMPLETED)
    client = client_as(commander)
    url = reverse("transparency:notice_edit", args=[draft.pk])
    assert "stays as it was published" in client.get(url).content.decode()
    response = client.post(url, GOOD)
    assert response.status_code == 400 and "stays as it was published" in response.content.decode()
    assert not PublicNotice.objects.exists()
