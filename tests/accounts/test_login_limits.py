"""The sign-in page's limits (accounts/login_throttle.py): per client address, then per account, both
checked before the password is hashed."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse

from accounts import login_throttle
from accounts.models import LoginFailureCount
from audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD, mfa_test_device

pytestmark = pytest.mark.django_db
WRONG = "wrong-password-1"


class CountingHasher(MD5PasswordHasher):
    calls = 0
    threads: set = set()

    def encode(self, password, salt):
        import threading

        CountingHasher.calls += 1
        CountingHasher.threads.add(threading.current_thread().name)
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls, CountingHasher.threads = 0, set()
    return CountingHasher


@pytest.fixture
def clock(monkeypatch):
    """The limits' clock, moved on by hand instead of waiting."""
    now = [1_800_000_000_000]
    monkeypatch.setattr(login_throttle, "_now_ms", lambda: now[0])

    def advance(seconds: float):
        now[0] += int(seconds * 1000)

    return advance


def attempt(client, username, password, address="198.51.100.7", **headers):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address,
                       **headers)


def test_an_address_over_its_limit_is_refused_with_429_before_any_hashing(client, detective, settings):
    settings.LOGIN_ADDRESS_BURST = 3
    for i in range(3):
        assert attempt(client, f"guess{i}", WRONG).status_code == 200
    hashes, failures = CountingHasher.calls, sum(LoginFailureCount.objects.values_list("count", flat=True))

    refused = attempt(client, detective.username, TEST_PASSWORD)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 6
    assert b"Too many attempts from your network" in refused.content
    assert CountingHasher.calls == hashes  # nothing hashed, nothing counted, nothing audited
    assert sum(LoginFailureCount.objects.values_list("count", flat=True)) == failures
    assert not AuditEvent.objects.exists()

    # Another address is not held up by this one.
    assert attempt(client, detective.username, TEST_PASSWORD, address="203.0.113.9").status_code == 302


def test_passwords_are_hashed_off_the_thread_that_serves_every_other_request(client, detective):
    """Under ASGI every synchronous view shares one thread: a hash there queues the officers' requests."""
    CountingHasher.calls, CountingHasher.threads = 0, set()  # creating the user hashed too
    assert attempt(client, "nobody", WRONG).status_code == 200
    assert attempt(client, detective.username, TEST_PASSWORD).status_code == 302
    assert CountingHasher.calls == 2 and {t.split("_")[0] for t in CountingHasher.threads} == {"password-check"}


def test_a_refused_attempt_is_answered_before_sessions_and_csrf(detective, settings):
    settings.LOGIN_ADDRESS_BURST = 1
    strict = Client(enforce_csrf_checks=True)
    assert attempt(strict, "nobody", WRONG).status_code == 403  # a token taken, CSRF refuses
    refused = attempt(strict, "nobody", WRONG)
    assert refused.status_code == 429 and "Set-Cookie" not in refused.headers
    assert "Content-Security-Policy" in refused.headers and refused["Cache-Control"] == "no-store"


def test_the_address_refills_over_time(client, settings, clock):
    settings.LOGIN_ADDRESS_BURST, settings.LOGIN_ADDRESS_PER_MINUTE = 2, 6  # a token every 10 s
    assert [attempt(client, f"guess{i}", WRONG).status_code for i in range(3)] == [200, 200, 429]
    clock(10.1)
    assert attempt(client, "guess9", WRONG).status_code == 200


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client, settings):
    settings.LOGIN_ADDRESS_BURST = 2
    proxy = {"address": "10.0.0.5"}
    for i in range(2):
        attempt(client, f"guess{i}", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy)
    assert attempt(client, "guess", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 429
    assert attempt(client, "guess", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 429  # untrusted
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert attempt(client, "guess", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 200


def test_ipv6_clients_are_limited_per_64_network(client, settings):
    settings.LOGIN_ADDRESS_BURST = 2
    attempt(client, "guess1", WRONG, address="2001:db8:1:2::1")
    attempt(client, "guess2", WRONG, address="2001:db8:1:2::2")
    assert attempt(client, "guess3", WRONG, address="2001:db8:1:2:ffff::3").status_code == 429
    assert attempt(client, "guess3", WRONG, address="2001:db8:1:3::1").status_code == 200


def test_a_successful_sign_in_gives_its_token_back(client, detective, settings):
    """Officers of one station share an address: their sign-ins must not use up its limit."""
    settings.LOGIN_ADDRESS_BURST = 2
    for _ in range(4):
        assert attempt(client, detective.username, TEST_PASSWORD).status_code == 302
        client.post(reverse("accounts:logout"))


def test_after_the_failure_limit_each_attempt_waits_a_growing_delay_right_password_too(detective, settings, clock):
    settings.LOGIN_FAILURE_LIMIT = 5
    for i in range(5):  # from five addresses: the account's delay, not an address limit
        assert attempt(Client(), detective.username, WRONG, address=f"198.51.100.{i}").status_code == 200
    hashes = CountingHasher.calls

    refused = attempt(Client(), detective.username, TEST_PASSWORD, address="203.0.113.9")
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert b"Too many failed sign-ins for this account" in refused.content and b"Try again in 1 s" in refused.content
    assert CountingHasher.calls == hashes

    clock(1.1)
    assert attempt(Client(), detective.username, WRONG).status_code == 200  # the 6th failure: now 2 s
    assert attempt(Client(), detective.username, TEST_PASSWORD)["Retry-After"] == "2"
    clock(2.1)
    assert attempt(Client(), detective.username, TEST_PASSWORD).status_code == 302
    # The right password clears the account's failures.
    assert attempt(Client(), detective.username, WRONG, address="203.0.113.10").status_code == 200


def test_one_attempt_per_wait_is_let_through(detective, settings, clock):
    """Concurrent guesses cannot all use the moment a wait ends."""
    settings.LOGIN_FAILURE_LIMIT = 1
    attempt(Client(), detective.username, WRONG)
    clock(1.1)
    login_throttle.login_attempt_admit(request=_request("192.0.2.1"), username=detective.username)
    assert attempt(Client(), detective.username, WRONG, address="192.0.2.2").status_code == 429


def _request(address):
    from django.test import RequestFactory

    return RequestFactory().post("/accounts/login/", REMOTE_ADDR=address)


def test_the_delay_is_capped(detective, settings, clock):
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_DELAY_MAX_SECONDS = 1, 60
    for i in range(12):
        assert attempt(Client(), detective.username, WRONG, address=f"198.51.100.{i}").status_code == 200
        clock(61)
    clock(-61)
    assert attempt(Client(), detective.username, TEST_PASSWORD)["Retry-After"] == "60"
    clock(60.1)
    assert attempt(Client(), detective.username, TEST_PASSWORD).status_code == 302


def test_failures_are_forgotten_after_the_window(detective, settings):
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW_MINUTES = 1, 15
    attempt(Client(), detective.username, WRONG)
    key = f"{login_throttle.PREFIX}:account:{login_throttle._digest(detective.username)}"
    assert 14 * 60 < login_throttle._client().ttl(key) <= 15 * 60


def test_a_browser_that_signed_in_before_is_not_kept_out_by_strangers_failures(detective, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    officer_browser = Client()
    assert attempt(officer_browser, detective.username, TEST_PASSWORD).status_code == 302
    assert login_throttle.DEVICE_COOKIE in officer_browser.cookies
    officer_browser.post(reverse("accounts:logout"))

    for i in range(5):
        attempt(Client(), detective.username, WRONG, address=f"203.0.113.{i}")
    assert attempt(Client(), detective.username, TEST_PASSWORD, address="192.0.2.50").status_code == 429
    forged = Client()
    forged.cookies[login_throttle.DEVICE_COOKIE] = officer_browser.cookies[login_throttle.DEVICE_COOKIE].value[:-2] + "xx"
    assert attempt(forged, detective.username, TEST_PASSWORD, address="192.0.2.51").status_code == 429
    assert attempt(officer_browser, detective.username, TEST_PASSWORD).status_code == 302


def test_a_remembered_browser_is_delayed_by_its_own_failures_only(detective, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    browser = Client()
    attempt(browser, detective.username, TEST_PASSWORD)
    browser.post(reverse("accounts:logout"))
    for _ in range(2):
        assert attempt(browser, detective.username, WRONG).status_code == 200
    assert attempt(browser, detective.username, TEST_PASSWORD).status_code == 429
    assert attempt(Client(), detective.username, TEST_PASSWORD, address="192.0.2.50").status_code == 302


def test_the_mfa_code_step_is_limited_per_address_too(commander, settings):
    settings.LOGIN_ADDRESS_BURST = 2
    mfa_test_device(commander)
    browser = Client(REMOTE_ADDR="198.51.100.7")
    assert attempt(browser, commander.username, TEST_PASSWORD).status_code == 302  # its token given back
    codes = [browser.post(reverse("accounts:mfa_verify"), {"token": "000000"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
