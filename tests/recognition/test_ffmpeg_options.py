"""What FFmpeg may reach once it has a camera URL, tried against real FFmpeg (OpenCV's backend) and real
sockets: no redirects, no playlists naming other hosts, no other protocols, nothing injected on the wire."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from recognition import ffmpeg_options
from recognition.ffmpeg_options import LOCAL_FILE, capture_options, options_for
from recognition.source_urls import DestinationPolicy
from recognition.sources import SourcePolicy, SourceRefused, SourceUnavailable, create_source, open_source


class Listener:
    """A TCP service on this host that records what each connection sends (answering ``reply``, if given)."""

    def __init__(self, reply=None) -> None:
        self.received: list[bytes] = []
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._reply = reply
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                peer = self._server.accept()[0]
            except OSError:
                continue
            with peer:
                peer.settimeout(1)
                try:
                    data = peer.recv(65536)
                except OSError:
                    data = b""
                self.received.append(data)
                if self._reply and data:
                    peer.sendall(self._reply(data))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()


@pytest.fixture
def listener():
    service = Listener()
    yield service
    service.close()


@pytest.fixture
def camera_server(listener):
    """An HTTP "camera" that redirects to the listener, or serves an HLS playlist whose segment is there."""

    class Camera(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            internal = f"http://127.0.0.1:{listener.port}/internal"
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", internal)
                self.end_headers()
                return
            body = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n{internal}.ts\n#EXT-X-ENDLIST\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.apple.mpegurl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def only(*ports: int) -> SourcePolicy:
    return SourcePolicy(destinations=DestinationPolicy.parse(",".join(f"127.0.0.1/32:{p}" for p in ports)))


@pytest.mark.parametrize("path", ["/redirect", "/playlist.m3u8"])
def test_an_http_camera_cannot_send_ffmpeg_to_another_port(camera_server, listener, path):
    # The camera's own port is allowed; the listener's is not, and FFmpeg must not go there on the camera's word.
    with pytest.raises(SourceUnavailable):
        open_source(f"http://127.0.0.1:{camera_server}{path}", policy=only(camera_server), open_timeout=3)
    time.sleep(0.3)
    assert listener.received == []


def test_what_reaches_an_rtsp_camera_is_the_rebuilt_url_on_one_line(listener):
    with pytest.raises(SourceUnavailable):
        open_source(f"rtsp://Op:p%40ss@127.0.0.1:{listener.port}/caméra/<1>?ch=1", policy=only(listener.port),
                    open_timeout=2)
    request = listener.received[0]
    assert request.startswith(f"OPTIONS rtsp://127.0.0.1:{listener.port}/cam%C3%A9ra/%3C1%3E?ch=1 RTSP/1.0\r\n"
                              .encode())
    assert all(line.split(b":")[0] in (b"CSeq", b"User-Agent", b"") for line in request.split(b"\r\n")[1:])


@pytest.mark.parametrize("scheme", ["rtsp", "rtsps", "http", "https"])
def test_an_injected_url_never_opens_a_connection(listener, scheme):
    url = f"{scheme}://127.0.0.1:{listener.port}/cam1\r\nSET k v\r\nSAVE\r\n"
    with pytest.raises(SourceRefused, match="control characters"):
        open_source(url, policy=only(listener.port), open_timeout=2)
    time.sleep(0.2)
    assert listener.received == []


def test_each_open_checks_the_destination_again(listener):
    source = create_source(f"rtsp://localhost:{listener.port}/live", policy=only(listener.port), open_timeout=1)
    with pytest.raises(SourceUnavailable):
        source.open()  # allowed: it connects (and the listener is no camera; then the diagnosis asks why)
    connections = len(listener.received)
    assert connections >= 1
    source.policy = SourcePolicy()  # what changed could be the policy or what the name resolves to
    with pytest.raises(SourceRefused, match="not in an allowed camera network"):
        source.open()
    time.sleep(0.2)
    assert len(listener.received) == connections


def scheme_options(scheme):
    """The FFmpeg options the registered kind of ``scheme`` opens its streams with."""
    return create_source(f"{scheme}://10.0.0.5/").network.ffmpeg


def test_each_scheme_has_its_whitelist_and_http_no_redirects():
    assert "protocol_whitelist;rtsp,rtp,udp,tcp" in options_for(scheme_options("rtsp")).split("|")
    assert "rtsp_transport;tcp" in options_for(scheme_options("rtsp")).split("|")
    assert "protocol_whitelist;rtsps,rtsp,rtp,udp,tcp,tls" in options_for(scheme_options("rtsps")).split("|")
    for scheme, protocols in (("http", "http,tcp"), ("https", "https,http,tls,tcp")):
        options = options_for(scheme_options(scheme)).split("|")
        assert f"protocol_whitelist;{protocols}" in options and "max_redirects;0" in options
        assert any(o.startswith("format_whitelist;") and "hls" not in o for o in options)
    assert options_for(LOCAL_FILE).split("|") == ["protocol_whitelist;file"]


def test_opens_with_other_options_wait_for_each_other():
    seen, http_open, rtsp_waiting = [], threading.Event(), threading.Event()
    release_http = threading.Event()

    def http_opener():
        with capture_options(scheme_options("http")):
            http_open.set()
            release_http.wait(5)
            seen.append(("http", ffmpeg_options.os.environ[ffmpeg_options.VARIABLE]))

    def rtsp_opener():
        http_open.wait(5)
        rtsp_waiting.set()
        with capture_options(scheme_options("rtsp")):
            seen.append(("rtsp", ffmpeg_options.os.environ[ffmpeg_options.VARIABLE]))

    threads = [threading.Thread(target=http_opener), threading.Thread(target=rtsp_opener)]
    for thread in threads:
        thread.start()
    rtsp_waiting.wait(5)
    time.sleep(0.2)
    assert seen == []  # rtsp is held back while http's options are in use
    release_http.set()
    for thread in threads:
        thread.join(5)
    assert seen == [("http", options_for(scheme_options("http"))), ("rtsp", options_for(scheme_options("rtsp")))]
    with capture_options(scheme_options("http")), capture_options(scheme_options("http")):  # the same options open together
        assert ffmpeg_options.os.environ[ffmpeg_options.VARIABLE] == options_for(scheme_options("http"))
    # Put back as it was, so captures opened elsewhere in the process are not limited to http.
    assert ffmpeg_options.os.environ.get(ffmpeg_options.VARIABLE) == ffmpeg_options._OPERATOR_VALUE


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_ffmpeg_connects_to_the_address_that_was_checked_not_to_a_second_dns_answer(listener, scheme):
    with pytest.raises(SourceUnavailable):
        open_source(f"{scheme}://localhost:{listener.port}/live", policy=only(listener.port), open_timeout=2)
    request = listener.received[0].decode()
    if scheme == "rtsp":
        assert request.startswith(f"OPTIONS rtsp://127.0.0.1:{listener.port}/live RTSP/1.0\r\n")
    else:  # the camera still sees the name it was addressed by, once
        assert request.startswith("GET /live HTTP/1.1\r\n")
        assert [line for line in request.split("\r\n") if line.lower().startswith("host:")] == \
            [f"Host: localhost:{listener.port}"]
