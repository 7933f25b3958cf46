"""API: user accounts (/api/users/): the users page's services, so the same rules and audit events."""

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.conftest import mfa_test_device

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-first-password-7"


def test_users_are_listed_with_bounded_queries(api_as, administrator, commander, make_user,
                                               django_assert_max_num_queries):
    mfa_test_device(commander)
    client = api_as(administrator)
    with django_assert_max_num_queries(15) as few:
        client.get("/api/users/")
    for i in range(30):
        make_user(username=f"many{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/api/users/").json()
    assert page["count"] == 32
    rows = {row["username"]: row for row in page["results"]}
    assert rows["supt_jones"]["roles"] == ["authorising_officer"] and rows["supt_jones"]["mfa_enrolled"] is True
    assert rows["sysadmin"]["sign_in_failures"] == 0 and rows["many0"]["roles"] == []


def test_a_user_is_created_and_read(api_as, administrator):
    client = api_as(administrator)
    response = client.post("/api/users/", {"username": "pc_green", "password": PASSWORD, "roles": ["officer"],
                                           "full_name": "Pat Green"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "pc_green" and body["roles"] == ["officer"] and body["is_active"] is True
    assert "password" not in body
    assert client.get(response["Location"]).json()["full_name"] == "Pat Green"
    assert AuditEvent.objects.filter(action="user.created", actor=administrator).exists()


@pytest.mark.parametrize("body, message", [
    ({"username": "pc_green", "password": "short"}, "too short"),
    ({"username": "det_smith", "password": PASSWORD}, "is taken"),
    ({"username": "pc_green", "password": PASSWORD, "roles": ["superhero"]}, "superhero"),
])
def test_bad_input_is_a_400_with_a_reason(api_as, administrator, detective, body, message):
    response = api_as(administrator).post("/api/users/", body, format="json")
    assert response.status_code == 400 and message in response.content.decode()
    assert not get_user_model().objects.filter(username="pc_green").exists()


def test_roles_are_set(api_as, administrator, officer):
    response = api_as(administrator).put(f"/api/users/{officer.pk}/roles", {"roles": ["oversight"]}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == ["oversight"]


def test_nobody_removes_their_own_user_management_or_deactivates_themselves(api_as, administrator):
    client = api_as(administrator)
    response = client.put(f"/api/users/{administrator.pk}/roles", {"roles": []}, format="json")
    assert response.status_code == 400 and "your own right to manage users" in response.json()["errors"][0]
    response = client.post(f"/api/users/{administrator.pk}/deactivate")
    assert response.status_code == 400 and "your own account" in response.json()["errors"][0]
    administrator.refresh_from_db()
    assert administrator.is_active and administrator.groups.filter(name="admin").exists()


def test_deactivate_reactivate_unlock_and_reset_the_authenticator(api_as, administrator, commander):
    mfa_test_device(commander)
    client = api_as(administrator)
    assert client.post(f"/api/users/{commander.pk}/deactivate").json()["is_active"] is False
    assert client.post(f"/api/users/{commander.pk}/deactivate").status_code == 400  # already
    assert client.post(f"/api/users/{commander.pk}/reactivate").json()["is_active"] is True
    assert client.post(f"/api/users/{commander.pk}/unlock").json()["sign_in_failures"] == 0
    assert client.post(f"/api/users/{commander.pk}/reset-mfa").json() == {"devices_removed": 1}
    assert not TOTPDevice.objects.filter(user=commander).exists()
    assert list(AuditEvent.objects.filter(actor=administrator, target_id=str(commander.pk)).order_by("sequence")
                .values_list("action", flat=True)) == ["user.deactivated", "user.reactivated", "user.unlocked",
                                                       "mfa.reset"]


@pytest.mark.parametrize("role", ["detective", "commander", "officer", "oversight", "outsider"])
def test_other_roles_are_refused(request, api_as, role, officer):
    client = api_as(request.getfixturevalue(role))
    assert client.get("/api/users/").status_code == 403
    assert client.get(f"/api/users/{officer.pk}/").status_code == 403
    assert client.post("/api/users/", {"username": "x_user", "password": PASSWORD}, format="json").status_code == 403
    assert client.put(f"/api/users/{officer.pk}/roles", {"roles": ["admin"]}, format="json").status_code == 403
    assert client.post(f"/api/users/{officer.pk}/deactivate").status_code == 403
    officer.refresh_from_db()
    assert officer.is_active and list(officer.groups.values_list("name", flat=True)) == ["officer"]


def test_an_unknown_user_is_a_404(api_as, administrator):
    assert api_as(administrator).post("/api/users/999999/deactivate").status_code == 404
