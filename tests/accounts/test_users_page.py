"""The users page and a user's page: every change needs the confirmation box, is audited, and only user
managers get in."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.conftest import mfa_test_device

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-first-password-7"


def _user_url(name, user):
    return reverse(f"accounts:{name}", kwargs={"pk": user.pk})


def test_the_list_shows_each_account_with_bounded_queries(client_as, administrator, make_user,
                                                          django_assert_max_num_queries):
    client = client_as(administrator)
    for i in range(3):
        make_user(username=f"few{i}")
    with django_assert_max_num_queries(15) as few:
        client.get(reverse("accounts:users"))
    for i in range(30):
        make_user(username=f"many{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("accounts:users")).content.decode()
    assert 'data-username="many29"' in page and _user_url("user_detail", administrator) in page


def test_adding_a_user_needs_the_confirmation(client_as, administrator):
    client = client_as(administrator)
    data = {"username": "pc_green", "full_name": "Pat Green", "password": PASSWORD, "roles": ["officer"]}
    response = client.post(reverse("accounts:user_create"), data)
    assert response.status_code == 400 and "tick the box to confirm" in response.content.decode()
    assert not get_user_model().objects.filter(username="pc_green").exists()

    response = client.post(reverse("accounts:user_create"), data | {"confirm": "on"})
    user = get_user_model().objects.get(username="pc_green")
    assert response.status_code == 302 and response["Location"] == _user_url("user_detail", user)
    assert list(user.groups.values_list("name", flat=True)) == ["officer"]
    assert AuditEvent.objects.filter(action="user.created", actor=administrator).exists()


def test_a_weak_password_is_a_form_error_not_a_500(client_as, administrator):
    response = client_as(administrator).post(reverse("accounts:user_create"), {
        "username": "pc_green", "password": "short", "roles": ["officer"], "confirm": "on"})
    assert response.status_code == 400 and "too short" in response.content.decode()


def test_roles_are_changed_only_when_confirmed(client_as, administrator, officer):
    client = client_as(administrator)
    url = _user_url("user_roles", officer)
    assert client.post(url, {"roles": ["oversight"]}).status_code == 400
    assert list(officer.groups.values_list("name", flat=True)) == ["officer"]
    response = client.post(url, {"roles": ["oversight", "officer"], "confirm": "on"})
    assert response.status_code == 302
    assert sorted(officer.groups.values_list("name", flat=True)) == ["officer", "oversight"]


def test_an_administrator_cannot_remove_their_own_admin_role_on_the_page(client_as, administrator):
    response = client_as(administrator).post(_user_url("user_roles", administrator),
                                             {"roles": ["oversight"], "confirm": "on"})
    assert response.status_code == 400 and "your own right to manage users" in response.content.decode()
    assert list(administrator.groups.values_list("name", flat=True)) == ["admin"]


def test_deactivate_and_reactivate_need_the_confirmation(client_as, administrator, officer):
    client = client_as(administrator)
    assert client.post(_user_url("user_deactivate", officer)).status_code == 400
    officer.refresh_from_db()
    assert officer.is_active
    assert client.post(_user_url("user_deactivate", officer), {"confirm": "on"}).status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active
    page = client.get(_user_url("user_detail", officer)).content.decode()
    assert 'data-testid="deactivated"' in page and _user_url("user_reactivate", officer) in page
    assert client.post(_user_url("user_reactivate", officer)).status_code == 400
    assert client.post(_user_url("user_reactivate", officer), {"confirm": "on"}).status_code == 302
    officer.refresh_from_db()
    assert officer.is_active


def test_an_administrator_is_not_offered_and_refused_deactivating_themselves(client_as, administrator):
    client = client_as(administrator)
    page = client.get(_user_url("user_detail", administrator)).content.decode()
    assert _user_url("user_deactivate", administrator) not in page and "cannot deactivate your own" in page
    response = client.post(_user_url("user_deactivate", administrator), {"confirm": "on"})
    assert response.status_code == 400
    administrator.refresh_from_db()
    assert administrator.is_active


def test_unlock_needs_the_confirmation_and_shows_the_lockout(client, client_as, settings, administrator, detective,
                                                             django_capture_on_commit_callbacks):
    settings.LOGIN_DELAY_MAX_SECONDS = 600
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        client.post(reverse("accounts:login"), {"username": detective.username, "password": "wrong-password"})
    admin = client_as(administrator)
    assert 'data-testid="locked-out"' in admin.get(reverse("accounts:users")).content.decode()
    assert admin.post(_user_url("user_unlock", detective)).status_code == 400
    assert 'data-testid="locked-out"' in admin.get(_user_url("user_detail", detective)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(_user_url("user_unlock", detective), {"confirm": "on"}).status_code == 302
    assert 'data-testid="locked-out"' not in admin.get(_user_url("user_detail", detective)).content.decode()
    assert AuditEvent.objects.filter(action="user.unlocked", actor=administrator).exists()


def test_the_authenticator_reset_needs_the_confirmation(client_as, administrator, commander):
    mfa_test_device(commander)
    client = client_as(administrator)
    response = client.post(reverse("accounts:user_mfa_reset"), {"user": commander.pk})
    assert response.status_code == 400 and "tick the box to confirm" in response.content.decode()
    assert TOTPDevice.objects.filter(user=commander).exists()


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "oversight", "outsider"])
def test_other_roles_are_refused_every_change(request, client_as, role, officer):
    client = client_as(request.getfixturevalue(role))
    assert client.get(_user_url("user_detail", officer)).status_code == 403
    assert client.post(reverse("accounts:user_create"), {"username": "x_user", "password": PASSWORD,
                                                         "confirm": "on"}).status_code == 403
    for name in ("user_roles", "user_deactivate", "user_unlock"):
        assert client.post(_user_url(name, officer), {"roles": ["admin"], "confirm": "on"}).status_code == 403
    officer.refresh_from_db()
    assert officer.is_active and list(officer.groups.values_list("name", flat=True)) == ["officer"]


def test_an_unknown_user_is_a_404(client_as, administrator):
    client = client_as(administrator)
    assert client.get(reverse("accounts:user_detail", kwargs={"pk": 999999})).status_code == 404
    assert client.post(reverse("accounts:user_deactivate", kwargs={"pk": 999999}),
                       {"confirm": "on"}).status_code == 404
