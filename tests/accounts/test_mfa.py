"""Multi-factor authentication: who is asked, enrolment with a local QR code, codes, throttling, reset."""

from base64 import b32encode

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD, mfa_test_device, totp_code

pytestmark = pytest.mark.django_db

MFA_ROLES = ["commander", "oversight", "administrator"]
ADDRESS = "192.0.2.7"


def password_only(user, client=None):
    """A client signed in with the password only, as after the login form."""
    client = client or Client(REMOTE_ADDR=ADDRESS)
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content
    return client


def wrong_code(device) -> str:
    return "000000" if totp_code(device) != "000000" else "111111"


@pytest.mark.parametrize("fixture", MFA_ROLES)
def test_mfa_roles_reach_no_page_or_api_before_the_code(request, fixture):
    user = request.getfixturevalue(fixture)
    client = password_only(user)

    for path in ["/", "/deployments/", "/audit/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:mfa_verify"))
    api = client.get("/api/watchlists/", HTTP_ACCEPT="application/json")
    assert api.status_code == 403 and api["Content-Type"] == "application/json"
    assert "two-factor" in api.json()["detail"]
    # No device yet: the code page sends them to enrolment, keeping where they were going.
    response = client.get(reverse("accounts:mfa_verify") + "?next=/deployments/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa_enrol") + "?next=%2Fdeployments%2F"


def test_first_sign_in_enrols_an_authenticator_with_a_local_qr_code(commander):
    client = password_only(commander)

    page = client.get(reverse("accounts:mfa_enrol") + "?next=/deployments/")
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=commander)
    assert not device.confirmed
    assert "<svg" in html and "otpauth" not in html  # drawn here as SVG; the secret is not in a URL to fetch
    secret = page.context["secret"].replace(" ", "")
    assert secret == b32encode(device.bin_key).decode().rstrip("=") and page.context["secret"] in html
    assert client.get(reverse("accounts:mfa_enrol")).context["secret"] == page.context["secret"]  # same QR on reload

    response = client.post(reverse("accounts:mfa_enrol"), {"token": totp_code(device), "next": "/deployments/"})

    assert response.status_code == 302 and response["Location"] == "/deployments/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/deployments/").status_code == 200
    assert client.get("/api/watchlists/").status_code == 200
    event = AuditEvent.objects.get(action="mfa.enrolled")
    assert event.actor == commander and event.client_ip == ADDRESS


def test_a_later_sign_in_asks_for_the_code_and_returns_where_they_were_going(oversight):
    device = mfa_test_device(oversight)
    client = password_only(oversight)
    page = client.get(reverse("accounts:mfa_verify") + "?next=/audit/")
    assert page.status_code == 200 and b"Enter your code" in page.content

    response = client.post(reverse("accounts:mfa_verify"), {"token": totp_code(device), "next": "/audit/"})

    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200
    assert AuditEvent.objects.filter(action="mfa.verified", actor=oversight, client_ip=ADDRESS).count() == 1


def test_a_wrong_code_is_refused_and_audited_with_the_address(commander):
    device = mfa_test_device(commander)
    client = password_only(commander)

    response = client.post(reverse("accounts:mfa_verify"), {"token": wrong_code(device)})

    assert response.status_code == 400 and b"not right" in response.content
    assert client.get("/").status_code == 302
    event = AuditEvent.objects.get(action="mfa.failed")
    assert event.actor == commander and event.client_ip == ADDRESS
    assert event.details == {"stage": "sign_in", "reason": "wrong_code", "consecutive_failures": 1}
    assert not AuditEvent.objects.filter(action="mfa.verified").exists()


def test_after_a_wrong_code_even_the_right_one_waits(settings, commander):
    settings.OTP_TOTP_THROTTLE_FACTOR = 600  # the first retry waits 10 minutes: no clock in this test
    device = mfa_test_device(commander)
    client = password_only(commander)
    client.post(reverse("accounts:mfa_verify"), {"token": wrong_code(device)})

    response = client.post(reverse("accounts:mfa_verify"), {"token": totp_code(device)})

    assert response.status_code == 400 and b"too many wrong codes" in response.content
    assert client.get("/").status_code == 302
    assert [e.details["reason"] for e in AuditEvent.objects.filter(action="mfa.failed").order_by("sequence")] == [
        "wrong_code", "throttled"]


def test_a_code_cannot_be_used_twice(commander):
    device = mfa_test_device(commander)
    code = totp_code(device)
    first = password_only(commander)
    assert first.post(reverse("accounts:mfa_verify"), {"token": code}).status_code == 302

    second = password_only(commander, Client(REMOTE_ADDR="198.51.100.9"))
    response = second.post(reverse("accounts:mfa_verify"), {"token": code})

    assert response.status_code == 400
    assert second.get("/").status_code == 302
    assert AuditEvent.objects.get(action="mfa.failed").client_ip == "198.51.100.9"


@pytest.mark.parametrize("fixture", ["officer", "detective"])
def test_roles_without_mfa_sign_in_with_the_password(request, fixture):
    user = request.getfixturevalue(fixture)
    client = password_only(user)
    assert client.get("/").status_code == 200
    assert client.get(reverse("accounts:mfa_enrol")).status_code == 302  # nothing to set up
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_mfa_required_for_all_asks_every_role(settings, officer):
    settings.MFA_REQUIRED_FOR_ALL = True
    client = password_only(officer)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:mfa_verify"))


def test_mfa_roles_setting_decides_which_roles_are_asked(settings, commander, detective):
    settings.MFA_REQUIRED_ROLES = ["detective"]
    assert password_only(commander).get("/").status_code == 200
    assert password_only(detective).get("/").status_code == 302


def test_next_cannot_send_a_verified_user_to_another_site(commander):
    device = mfa_test_device(commander)
    client = password_only(commander)
    response = client.post(reverse("accounts:mfa_verify"),
                           {"token": totp_code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_session_key_changes_when_the_code_is_accepted(commander):
    device = mfa_test_device(commander)
    client = password_only(commander)
    before = client.cookies["sessionid"].value
    client.post(reverse("accounts:mfa_verify"), {"token": totp_code(device)})
    assert client.cookies["sessionid"].value != before


def test_an_administrator_resets_a_lost_authenticator(client_as, commander, administrator):
    device = mfa_test_device(commander)
    commander_client = password_only(commander)
    commander_client.post(reverse("accounts:mfa_verify"), {"token": totp_code(device)})
    assert commander_client.get("/").status_code == 200

    unconfirmed = client_as(administrator).post(reverse("accounts:user_mfa_reset"), {"user": commander.pk})
    assert unconfirmed.status_code == 400 and TOTPDevice.objects.filter(user=commander).exists()
    response = client_as(administrator).post(reverse("accounts:user_mfa_reset"), {"user": commander.pk,
                                                                                   "confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_detail", kwargs={"pk": commander.pk})
    assert not TOTPDevice.objects.filter(user=commander).exists()
    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.actor == administrator and event.target_id == str(commander.pk)
    assert event.details == {"username": commander.username, "devices_removed": 1}
    # The session verified with the lost phone is verified no more: next stop, enrolment.
    assert commander_client.get("/").status_code == 302
    assert commander_client.get(reverse("accounts:mfa_verify"))["Location"].startswith(reverse("accounts:mfa_enrol"))


def test_only_user_managers_may_reset_an_authenticator(client_as, commander, oversight):
    mfa_test_device(commander)
    response = client_as(oversight).post(reverse("accounts:user_mfa_reset"), {"user": commander.pk, "confirm": "on"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=commander).exists()
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


def test_resetting_an_unknown_user_is_a_clear_400(client_as, administrator):
    response = client_as(administrator).post(reverse("accounts:user_mfa_reset"), {"user": 999999, "confirm": "on"})
    assert response.status_code == 400 and b"no such user" in response.content
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


def test_users_page_shows_who_has_an_authenticator(client_as, administrator, commander, officer,
                                                   django_assert_max_num_queries):
    mfa_test_device(commander)
    client = client_as(administrator)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("accounts:users")).content.decode()
    rows = {u: html.split(f'data-username="{u}"')[1].split("</tr>")[0] for u in (commander.username, officer.username)}
    assert "enrolled" in rows[commander.username] and "not set up" in rows[officer.username]
    detail = client.get(reverse("accounts:user_detail", kwargs={"pk": commander.pk})).content.decode()
    assert "Reset authenticator" in detail
    detail = client.get(reverse("accounts:user_detail", kwargs={"pk": officer.pk})).content.decode()
    assert "Reset authenticator" not in detail


def test_api_tokens_are_a_separate_credential(commander):
    """Tokens are issued only by an operator (manage.py drf_create_token), never for a password: they work
    without a session, so scripts can call the API (docs/accounts.md)."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=commander).key}")
    assert api.get("/api/watchlists/").status_code == 200


def test_navigation_is_hidden_until_the_code_is_given(commander):
    mfa_test_device(commander)
    html = password_only(commander).get(reverse("accounts:mfa_verify")).content.decode()
    assert ">Deployments</a>" not in html and "Sign out" in html


def test_signing_out_works_before_the_code(commander):
    client = password_only(commander)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get("/")["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=commander).exists()
