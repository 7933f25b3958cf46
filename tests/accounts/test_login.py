import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_login_page_is_served_with_csrf(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


@pytest.mark.django_db
def test_login_without_csrf_token_is_refused(detective):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("accounts:login"), {"username": detective.username, "password": TEST_PASSWORD})
    assert response.status_code == 403


@pytest.mark.django_db
def test_successful_login_and_logout_are_audited(client, detective):
    response = client.post(reverse("accounts:login"), {"username": detective.username, "password": TEST_PASSWORD},
                           REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor == detective and login.actor_roles == ["detective"] and login.client_ip == "192.0.2.10"

    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=detective).exists()
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_failed_login_is_audited_without_the_password(client, detective):
    import datetime as dt

    from django.utils import timezone

    from accounts.services import login_failures_audit

    response = client.post(reverse("accounts:login"), {"username": detective.username, "password": "wrong-guess-123"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert login_failures_audit(now=timezone.now() + dt.timedelta(minutes=2)) == 1  # the minute's count
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None
    assert event.target_id == str(detective.pk)
    assert event.details["username"] == detective.username and event.details["count"] == 1
    assert "wrong-guess" not in str(event.details)


@pytest.mark.django_db
@pytest.mark.parametrize("fixture, visible, hidden", [
    ("detective", ["Home"], ["Audit log", "Users"]),
    ("administrator", ["Home"], ["Watchlists", "Live alerts"]),
])
def test_navigation_shows_each_role_what_it_may_use(request, client_as, fixture, visible, hidden):
    client = client_as(request.getfixturevalue(fixture))
    html = client.get("/").content.decode()
    for label in visible:
        assert f">{label}</a>" in html
    for label in hidden:
        assert f">{label}</a>" not in html
