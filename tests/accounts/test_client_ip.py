"""core.client_address.client_ip: the one reading of a client's address (audit log, sign-in limits)."""

import pytest
from django.test import RequestFactory

from core.client_address import client_ip

PROXY = "10.0.0.5"


def address(remote, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address("198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_a_client_cannot_pose_as_a_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert address("198.51.100.7", "203.0.113.1") == "198.51.100.7"


@pytest.mark.parametrize("forwarded, expected", [
    ("203.0.113.9", "203.0.113.9"),
    # The left-most entries are whatever the client sent: only the hop the trusted proxy saw counts.
    ("1.2.3.4, 203.0.113.9", "203.0.113.9"),
    # Through two trusted proxies: the right-most address that is not one of them.
    ("203.0.113.9, 10.0.0.7", "203.0.113.9"),
    ("203.0.113.9:51234", "203.0.113.9"),
    ("[2001:db8::7]:443", "2001:db8::7"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("", PROXY),
    ("not-an-address", PROXY),
    ("10.0.0.8", "10.0.0.8"),  # nothing but trusted hops: the farthest one
])
def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(settings, forwarded, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert address(PROXY, forwarded) == expected


def test_no_header_behind_a_proxy_is_the_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address(PROXY) == PROXY


@pytest.mark.django_db
def test_the_audit_log_records_the_address_the_proxy_saw(client, detective, settings):
    from django.urls import reverse

    from audit.models import AuditEvent
    from tests.conftest import TEST_PASSWORD

    settings.TRUSTED_PROXIES = [PROXY]
    client.post(reverse("accounts:login"), {"username": detective.username, "password": TEST_PASSWORD},
                REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert AuditEvent.objects.get(action="auth.login").client_ip == "203.0.113.9"


def test_a_tls_proxy_without_trusted_proxies_is_warned_about(settings):
    from accounts.login_throttle import check_proxy_addresses

    settings.SECURE_PROXY_SSL_HEADER, settings.TRUSTED_PROXIES = ("HTTP_X_FORWARDED_PROTO", "https"), []
    assert [w.id for w in check_proxy_addresses(None)] == ["accounts.W002"]
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert check_proxy_addresses(None) == []


def test_a_malformed_trusted_proxy_stops_the_settings_from_loading():
    import os
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"],
                            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
                                 "TRUSTED_PROXIES": "10.0.0.5,proxy.local"})
    assert result.returncode != 0 and "TRUSTED_PROXIES: 'proxy.local' is not an address or network" in result.stderr
