"""API: cameras (register with a validated source, list, read)."""

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from deployments.models import Camera

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path
    path = tmp_path / "high-street.mp4"
    path.write_bytes(b"placeholder video")
    return path


def test_detective_registers_a_file_camera(api_as, detective, video):
    response = api_as(detective).post("/api/cameras/", {"name": "Cam 1", "source_url": "high-street.mp4",
                                                        "location": "High Street, north"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source_url"] == str(video.resolve()) and body["enabled"] is True and body["status"] == "idle"
    assert body["created_by"] == detective.username and response["Location"] == f"/api/cameras/{body['id']}/"
    assert AuditEvent.objects.filter(action="camera.created", actor=detective).exists()


def register(client, source):
    return client.post("/api/cameras/", {"name": "Cam", "source_url": source, "location": "L"}, format="json")


@pytest.mark.parametrize("source, message", [
    ("/etc/passwd", "video files must be under"),
    ("missing.mp4", "no video file at"),
    ("ftp://camera.example/stream", "ftp:// is not allowed"),
    ("gopher://10.0.0.5:6379/_SET", "gopher:// is not allowed"),
    ("rtsp:///no-host", "has no host"),
])
def test_camera_sources_are_validated(api_as, detective, video, source, message):
    response = register(api_as(detective), source)
    assert response.status_code == 400 and message in response.json()["errors"][0]
    assert not Camera.objects.exists()


SCHEMES = ["rtsp", "rtsps", "http", "https"]
INJECTED = "/cam1\r\nSET k v\r\nCONFIG SET dir /var/lib/redis\r\nCONFIG SET dbfilename x\r\nSAVE\r\n"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("host", ["127.0.0.1:6391", "10.0.0.5", "[fd00::5]:8554"])
@pytest.mark.parametrize("payload", [INJECTED, "/cam1\nQUIT", "/cam1\tx", "/cam1%0d%0aSET%20k%20v", "/a\u2028b",
                                     "/a\u00a0b", "/cam 1"])
def test_urls_carrying_control_characters_or_whitespace_are_refused(api_as, detective, scheme, host, payload):
    response = register(api_as(detective), f"{scheme}://{host}{payload}")
    assert response.status_code == 400, response.content
    assert "control characters" in response.json()["errors"][0] or "encoded control" in response.json()["errors"][0]
    assert "\r" not in response.content.decode() and not Camera.objects.exists()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("host, reason", [
    ("127.0.0.1:6379", "not in an allowed camera network"),
    ("127.0.0.1", "not in an allowed camera network"),
    ("[::1]:5432", "not in an allowed camera network"),
    ("[::ffff:127.0.0.1]:6379", "not in an allowed camera network"),
    ("[0:0:0:0:0:0:0:1]", "not in an allowed camera network"),
    ("0.0.0.0:6379", "not in an allowed camera network"),
    ("169.254.169.254", "not in an allowed camera network"),
    ("[fe80::1]", "not in an allowed camera network"),
    ("[fd00:ec2::254]", "metadata address"),
    ("8.8.8.8", "not in an allowed camera network"),
    ("localhost:6379", "not in an allowed camera network"),
    ("LOCALHOST", "not in an allowed camera network"),
    ("2130706433", "neither an IP address nor a host name"),
    ("127.1:6379", "neither an IP address nor a host name"),
    ("0x7f.0.0.1", "neither an IP address nor a host name"),
    ("10.0.0.5@127.0.0.1:6379", "not in an allowed camera network"),
    ("no-such-camera.invalid", "cannot be resolved"),
])
def test_destinations_outside_the_camera_networks_are_refused(api_as, detective, scheme, host, reason):
    response = register(api_as(detective), f"{scheme}://{host}/stream")
    assert response.status_code == 400 and reason in response.json()["errors"][0], response.content
    assert not Camera.objects.exists()


def service_port(url: str) -> int:
    return urlsplit(url).port


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_database_and_the_broker_are_refused_even_inside_an_allowed_network(settings, api_as, detective,
                                                                                scheme):
    settings.CAMERA_ALLOWED_NETWORKS = "127.0.0.0/8"  # loopback allowed on purpose (a test bench)
    client = api_as(detective)
    for url in (settings.DATABASE_URL, settings.REDIS_URL):
        for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]"):
            response = register(client, f"{scheme}://{host}:{service_port(url)}/x")
            assert response.status_code == 400 and "this system's own services" in response.json()["errors"][0]
    assert not Camera.objects.exists()
    assert register(client, f"{scheme}://localhost:8554/x").status_code == 201  # the bench camera itself


def test_a_service_port_is_reachable_only_when_named_on_its_own(settings, api_as, detective):
    port = service_port(settings.REDIS_URL)
    settings.CAMERA_ALLOWED_NETWORKS = f"127.0.0.0/8,127.0.0.1/32:{port}"
    response = register(api_as(detective), f"rtsp://127.0.0.1:{port}/x")
    assert response.status_code == 201, response.content


def test_loopback_and_link_local_need_an_entry_of_their_own(settings, api_as, detective):
    settings.CAMERA_ALLOWED_NETWORKS = "0.0.0.0/0,::/0"  # "anywhere" still means no loopback or metadata
    client = api_as(detective)
    for host in ("127.0.0.1:8554", "[::1]:8554", "169.254.169.254", "localhost:8554", "0.0.0.0:8554"):
        assert register(client, f"http://{host}/x").status_code == 400, host
    assert register(client, "http://203.0.113.7:8080/x").status_code == 201


def test_the_stored_url_is_rebuilt_from_its_parts(api_as, detective, officer):
    response = register(api_as(detective), "RTSP://Admin:p%40ss@10.0.0.5:554/cam\u00e9ra/<1>?channel=1&token=abc")
    assert response.status_code == 201, response.content
    camera = Camera.objects.get()
    assert camera.source_url == "rtsp://Admin:p%40ss@10.0.0.5:554/cam%C3%A9ra/%3C1%3E?channel=1&token=abc"
    ipv6 = register(api_as(detective), "http://[FD00:0:0:0::0005]:8080/video.mjpg")
    assert Camera.objects.get(pk=ipv6.json()["id"]).source_url == "http://[fd00::5]:8080/video.mjpg"
    shown = response.json()["source_url"]
    assert "p%40ss" not in shown and "abc" not in shown
    assert shown == "rtsp://Admin:\u2022\u2022\u2022@10.0.0.5:554/cam%C3%A9ra/%3C1%3E?channel=1&token=\u2022\u2022\u2022"


def test_camera_passwords_are_masked_for_every_role_that_sees_cameras(api_as, detective, commander, officer,
                                                                     oversight):
    camera = Camera.objects.create(name="Gate", source_url="rtsp://admin:S3cretCamPass@10.0.0.7:554/live",
                                   location="Gate B", created_by=detective)
    for user in (detective, commander, officer, oversight):
        client = api_as(user)
        detail = client.get(f"/api/cameras/{camera.pk}/")
        listing = client.get("/api/cameras/")
        assert "S3cretCamPass" not in detail.content.decode() + listing.content.decode()
        assert detail.json()["source_url"] == ("rtsp://admin:\u2022\u2022\u2022@10.0.0.7:554/live"
                                               if user == detective else None)


@pytest.mark.parametrize("role", ["commander", "officer", "oversight", "outsider"])
def test_only_planners_register_cameras(request, api_as, video, role):
    response = api_as(request.getfixturevalue(role)).post(
        "/api/cameras/", {"name": "Cam", "source_url": "rtsp://10.0.0.5/stream", "location": "L"}, format="json")
    assert response.status_code == 403 and not Camera.objects.exists()


def test_cameras_are_listed_to_deployment_viewers_with_bounded_queries(api_as, detective, officer,
                                                                      administrator, django_assert_max_num_queries):
    Camera.objects.bulk_create([Camera(name=f"Cam {i:02d}", source_url=f"rtsp://10.0.0.{i}/s", location="L",
                                       created_by=detective) for i in range(3)])
    client = api_as(officer)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/cameras/").json()["count"] == 3
    Camera.objects.bulk_create([Camera(name=f"Cam {i:02d}", source_url=f"rtsp://10.0.1.{i}/s", location="L",
                                       created_by=detective) for i in range(3, 80)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/api/cameras/").json()
    assert page["count"] == 80 and len(page["results"]) == 50
    assert page["results"][0]["created_by"] == detective.username

    camera = Camera.objects.first()
    assert client.get(f"/api/cameras/{camera.pk}/").json()["name"] == camera.name
    assert client.get("/api/cameras/999999/").status_code == 404
    assert api_as(administrator).get("/api/cameras/").status_code == 403


def test_a_url_too_long_once_encoded_is_refused_not_a_server_error(api_as, detective):
    response = register(api_as(detective), "rtsp://10.0.0.5/" + "\u00e9" * 200)  # 216 characters, 1,216 encoded
    assert response.status_code == 400 and "too long" in response.json()["errors"][0]
    assert not Camera.objects.exists()
