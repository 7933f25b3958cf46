"""Camera URL checks without Django: the allow-list syntax, the destination rules, the rebuilt URL, masking."""

from __future__ import annotations

import ipaddress

import pytest

from recognition.source_urls import (
    AllowedNetwork,
    DestinationPolicy,
    URLRefused,
    network_url_canonical,
    parse_allowed_networks,
    redact_url,
)

DEFAULT = DestinationPolicy.parse()


def test_the_allow_list_syntax():
    entries = parse_allowed_networks(" 10.0.0.0/8:554, 192.168.1.7, [fd00::/8]:8000-8099, ::/0 ,")
    assert [str(e) for e in entries] == ["10.0.0.0/8:554", "192.168.1.7/32", "[fd00::/8]:8000-8099", "::/0"]
    assert entries[0] == AllowedNetwork(ipaddress.ip_network("10.0.0.0/8"), (554, 554))
    assert parse_allowed_networks("") == ()
    for bad in ("10.0.0.0/33", "10.0.0.0/8:0", "10.0.0.0/8:9-1", "10.0.0.0/8:http", "[fd00::/8]8000", "fd00::/8:554"):
        with pytest.raises(ValueError):
            parse_allowed_networks(bad)


def test_ports_are_part_of_the_rule():
    policy = DestinationPolicy.parse("10.0.0.0/8:554,10.1.0.0/16:8000-8099")
    policy.check_address(ipaddress.ip_address("10.9.9.9"), 554)
    policy.check_address(ipaddress.ip_address("10.1.2.3"), 8099)
    for address, port in (("10.9.9.9", 80), ("10.1.2.3", 8100), ("192.168.0.1", 554)):
        with pytest.raises(URLRefused, match="not in an allowed camera network"):
            policy.check_address(ipaddress.ip_address(address), port)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "169.254.169.254", "fe80::1",
                                     "0.0.0.0", "::", "224.0.0.1", "fd00:ec2::254", "100.100.100.200"])
def test_special_addresses_need_an_entry_inside_their_range(address):
    with pytest.raises(URLRefused):
        DestinationPolicy.parse("0.0.0.0/0,::/0,fc00::/7").check_address(ipaddress.ip_address(address), 80)


def test_an_entry_inside_loopback_allows_it():
    DestinationPolicy.parse("127.0.0.1/32").check_address(ipaddress.ip_address("127.0.0.1"), 8554)
    DestinationPolicy.parse("::1/128").check_address(ipaddress.ip_address("::1"), 8554)
    DestinationPolicy.parse("127.0.0.1/32").check_address(ipaddress.ip_address("::ffff:127.0.0.1"), 8554)


def test_refused_services_need_their_own_address_and_port():
    refused = [("10.0.0.9", 5432), ("::ffff:10.0.0.10", 6379)]
    broad = DestinationPolicy.parse("10.0.0.0/8", refused=refused)
    for host, port in (("10.0.0.9", 5432), ("10.0.0.10", 6379), ("::ffff:10.0.0.9", 5432)):
        with pytest.raises(URLRefused, match="own services"):
            broad.check_address(ipaddress.ip_address(host), port)
    broad.check_address(ipaddress.ip_address("10.0.0.9"), 554)
    DestinationPolicy.parse("10.0.0.0/8,10.0.0.9/32:5432", refused=refused).check_address(
        ipaddress.ip_address("10.0.0.9"), 5432)


def test_every_resolved_address_is_checked():
    assert DestinationPolicy.parse("127.0.0.1/32").check("localhost", 80) == [ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(URLRefused, match="127.0.0.1:80 is not in an allowed"):
        DEFAULT.check("localhost", 80)
    with pytest.raises(URLRefused, match="cannot be resolved"):
        DEFAULT.check("camera.invalid", 554)


@pytest.mark.parametrize("url, canonical", [
    ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
    ("RTSP://CAM-1.LAN@10.0.0.5:8554", "rtsp://CAM-1.LAN@10.0.0.5:8554"),
    ("rtsp://u:p%3Ass@10.0.0.5/a/../b", "rtsp://u:p%3Ass@10.0.0.5/a/../b"),
    ("rtsp://u@v:pw@10.0.0.5/", "rtsp://u%40v:pw@10.0.0.5/"),
    ("http://[FD00::0:5]:8080/v.mjpg?a=1&b=%2F", "http://[fd00::5]:8080/v.mjpg?a=1&b=%2F"),
    ("https://10.0.0.5/caméra/\"x\"{y}|", "https://10.0.0.5/cam%C3%A9ra/%22x%22%7By%7D%7C"),
    ("rtsps://10.0.0.5/s?q=\\", "rtsps://10.0.0.5/s?q=%5C"),
])
def test_the_url_is_rebuilt_from_its_parts(url, canonical):
    scheme = url.split(":")[0].lower()
    assert network_url_canonical(url, scheme=scheme, policy=DEFAULT, default_port=554) == canonical
    assert network_url_canonical(canonical, scheme=scheme, policy=DEFAULT, default_port=554) == canonical  # stable


@pytest.mark.parametrize("url, reason", [
    ("rtsp://10.0.0.5/a\r\nSET k v", "control characters"),
    ("rtsp://10.0.0.5/a\x00", "control characters"),
    ("rtsp://10.0.0.5/a\u200bb", "control characters"),  # zero-width space
    ("rtsp://10.0.0.5/a\u202eb", "control characters"),  # right-to-left override
    ("rtsp://u%0d%0aX:p@10.0.0.5/", "encoded control"),
    ("rtsp://10.0.0.5/a%7f", "encoded control"),
    ("rtsp://10.0.0.5/100%", "encoded control"),
    ("rtsp://10.0.0.5/a#b", "fragment"),
    ("rtsp://10.0.0.5:0/", "port 0"),
    ("rtsp://10.0.0.5:x/", "cannot be parsed"),
    ("rtsp://[fe80::1%25eth0]/", "zone"),
    ("rtsp://cam_1.lan/", "neither an IP address nor a host name"),
    ("rtsp://10.0.0.5/", "expected a http:// URL"),
])
def test_malformed_urls_are_refused(url, reason):
    scheme = "http" if reason.startswith("expected") else "rtsp"
    with pytest.raises(URLRefused, match=reason):
        network_url_canonical(url, scheme=scheme, policy=DEFAULT, default_port=554)


def test_redact_url_masks_passwords_and_secret_parameters_and_escapes_controls():
    assert redact_url("rtsp://admin:S3cret@10.0.0.5:554/s1") == "rtsp://admin:\u2022\u2022\u2022@10.0.0.5:554/s1"
    assert redact_url("rtsp://admin@10.0.0.5/s1") == "rtsp://admin@10.0.0.5/s1"
    assert redact_url("http://10.0.0.5/v.cgi?user=a&pwd=S3cret&api_key=K&ch=1") == \
        "http://10.0.0.5/v.cgi?user=a&pwd=\u2022\u2022\u2022&api_key=\u2022\u2022\u2022&ch=1"
    assert redact_url("rtsp://a:b:c@[::1]:99999/x") == "rtsp://a:\u2022\u2022\u2022@[::1]:99999/x"  # unparseable port
    assert redact_url("rtsp://a:S3cret@h/x\r\nSET k v", mask="***") == "rtsp://a:***@h/x\\r\\nSET k v"
    assert redact_url("/videos/demo.mp4") == "/videos/demo.mp4"
