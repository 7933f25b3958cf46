"""Sessions end after SESSION_IDLE_SECONDS without a request; each request starts the idle clock again."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def idle_for(client, seconds: int) -> None:
    """As if the last request had been `seconds` ago: the stored expiry is last request + idle timeout."""
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    last_request = timezone.now() - dt.timedelta(seconds=seconds)
    Session.objects.filter(session_key=key).update(
        expire_date=last_request + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE))


def test_each_request_renews_the_idle_timeout(client_as, detective):
    client = client_as(detective)
    idle_for(client, settings.SESSION_COOKIE_AGE - 60)  # a minute left
    assert client.get("/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    left = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert left > dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_a_session_idle_too_long_is_sent_to_the_login_page(client_as, officer):
    client = client_as(officer)
    idle_for(client, settings.SESSION_COOKIE_AGE + 1)
    response = client.get("/alerts/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/alerts/"


def test_an_api_call_on_an_idle_session_gets_json_not_the_login_page(api_as, commander):
    api = api_as(commander)
    assert api.get("/api/watchlists/").status_code == 200
    idle_for(api, settings.SESSION_COOKIE_AGE + 1)
    response = api.get("/api/watchlists/")
    assert response.status_code in (401, 403) and response["Content-Type"] == "application/json"
    assert response.json()["detail"]
