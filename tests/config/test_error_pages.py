"""The 404, 403 and 500 pages look like the rest of the portal, with DEBUG off as in production."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production_errors(settings):
    settings.DEBUG = False


def test_an_unknown_address_gets_the_portal_404_page(client_as, detective):
    response = client_as(detective).get("/no/such/page/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    page = response.content.decode()
    assert 'data-testid="not-found"' in page and "/no/such/page/" in page
    assert 'data-testid="current-user"' in page  # the header of every page, with the user signed in


def test_a_missing_record_gets_the_same_page(client_as, detective):
    response = client_as(detective).get("/deployments/999999/")
    assert response.status_code == 404 and "404.html" in [t.name for t in response.templates]


def test_a_refusal_gets_the_portal_403_page_with_its_reason(client_as, officer):
    response = client_as(officer).get("/audit/")
    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
    assert "your role does not allow this" in response.content.decode()


@override_settings(ROOT_URLCONF="tests.config.failing_urls")
def test_a_server_error_gets_the_portal_500_page(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert 'data-testid="server-error"' in page and "LFR Portal" in page
