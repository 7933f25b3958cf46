"""Frame sources: files (loop, real-time pacing), network streams that fail fast, the scheme registry."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from recognition.source_urls import DestinationPolicy
from recognition.sources import (
    Backoff,
    Frame,
    FramesFromImages,
    FrameSource,
    SourceKind,
    SourcePolicy,
    SourceUnavailable,
    StreamSource,
    UnknownSourceScheme,
    VideoFileSource,
    create_source,
    open_source,
    redact_url,
    register_source,
    registered_schemes,
    source_validate,
)

FPS = 20
FRAMES = 12
LOOPBACK = SourcePolicy(destinations=DestinationPolicy.parse("127.0.0.1/32"))  # the test servers listen there


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """A small AVI whose frame i is uniformly grey level 20 * i, so frames can be told apart."""
    path = tmp_path_factory.mktemp("video") / "counting.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (64, 48))
    assert writer.isOpened()
    for i in range(FRAMES):
        writer.write(np.full((48, 64, 3), 20 * i % 250, np.uint8))
    writer.release()
    return path


def level(frame: Frame) -> int:
    return int(round(float(frame.image.mean()) / 20))


def read_all(source: FrameSource, limit: int = 1000) -> list[Frame]:
    frames = []
    while len(frames) < limit and (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the socket is closed


def test_file_source_reads_every_frame_with_increasing_timestamps(video):
    with open_source(video) as source:
        assert isinstance(source, VideoFileSource) and source.fps == pytest.approx(FPS) and not source.live
        frames = read_all(source)
        assert source.ended and source.read() is None
    assert [f.index for f in frames] == list(range(FRAMES))
    assert [level(f) for f in frames] == list(range(FRAMES))
    assert [f.timestamp for f in frames] == pytest.approx([i / FPS for i in range(FRAMES)])
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8


def test_file_url_and_plain_path_give_the_same_source(video):
    source = open_source(f"file://{video}")
    try:
        assert isinstance(source, VideoFileSource) and len(read_all(source)) == FRAMES
    finally:
        source.close()
        source.close()  # closing twice is fine


def test_loop_restarts_the_file_and_keeps_counting(video):
    with open_source(video, loop=True) as source:
        frames = read_all(source, limit=FRAMES * 2 + 3)
        assert source.loops == 2 and not source.ended
    assert [f.index for f in frames] == list(range(FRAMES * 2 + 3))
    assert [level(f) for f in frames] == [i % FRAMES for i in range(FRAMES * 2 + 3)]
    assert all(b.timestamp > a.timestamp for a, b in zip(frames, frames[1:]))


def test_realtime_pacing_is_roughly_the_video_frame_rate(video):
    with open_source(video, realtime=True) as source:
        assert source.live
        started = time.monotonic()
        frames = read_all(source)
        elapsed = time.monotonic() - started
    assert len(frames) == FRAMES
    nominal = (FRAMES - 1) / FPS  # 0.55 s
    assert 0.6 * nominal < elapsed < nominal + 1.5
    assert frames[-1].timestamp == pytest.approx(elapsed, abs=0.3)
    assert all(b.timestamp > a.timestamp for a, b in zip(frames, frames[1:]))


def test_a_late_realtime_reader_skips_frames_instead_of_queueing_them(video):
    with open_source(video, realtime=True, loop=True) as source:
        first = source.read()
        time.sleep(0.3)  # ~6 frame intervals
        late = source.read()
    assert late.index - first.index >= 4 and source.dropped >= 3
    assert late.timestamp - first.timestamp >= 0.25


def test_missing_file_is_unavailable(tmp_path):
    with pytest.raises(SourceUnavailable, match="no such video file"):
        open_source(tmp_path / "nope.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(SourceUnavailable):
        open_source(tmp_path / "junk.mp4")


@pytest.mark.parametrize("scheme", ["http", "rtsp"])
def test_unreachable_stream_fails_fast_naming_the_url(scheme):
    url = f"{scheme}://officer:secret@127.0.0.1:{closed_port()}/stream"
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as raised:
        open_source(url, policy=LOOPBACK, open_timeout=2, read_timeout=2)
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "127.0.0.1" in message and "/stream" in message and "secret" not in message


@pytest.fixture
def silent_server():
    """Accepts TCP connections and never says anything: a camera that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for connection in accepted:
        connection.close()
    server.close()


@pytest.mark.parametrize("scheme", ["http", "rtsp"])
def test_a_silent_stream_times_out_instead_of_hanging(scheme, silent_server):
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="timed out"):
        open_source(f"{scheme}://127.0.0.1:{silent_server}/live", policy=LOOPBACK, open_timeout=1.5)
    assert time.monotonic() - started < 5


@pytest.fixture
def mjpeg_server():
    """An HTTP MJPEG camera that sends 5 frames, then stalls with the connection open."""
    release = threading.Event()

    class Camera(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for i in range(5):
                jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 40 * i, np.uint8))[1].tobytes()
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                                 + jpeg + b"\r\n")
                self.wfile.flush()
                time.sleep(0.02)
            release.wait(20)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
    release.set()
    server.shutdown()
    server.server_close()


def test_http_stream_reads_frames_then_a_stalled_camera_ends_the_read_within_the_timeout(mjpeg_server):
    with open_source(mjpeg_server, policy=LOOPBACK, open_timeout=3, read_timeout=1.5) as source:
        assert isinstance(source, StreamSource) and source.live
        frames = read_all(source, limit=20)
        started = time.monotonic()
        assert source.read() is None
        assert time.monotonic() - started < 4
    assert len(frames) == 5
    assert [f.index for f in frames] == list(range(5))
    assert all(b.timestamp >= a.timestamp for a, b in zip(frames, frames[1:]))
    assert "no frame within" in source.failed_reason and not source.ended


def test_registry_refuses_unknown_schemes_and_accepts_plugins():
    with pytest.raises(UnknownSourceScheme, match="'ftp'"):
        open_source("ftp://camera.example/stream")
    assert {"file", "http", "https", "rtsp", "rtsps"} <= set(registered_schemes())

    made = []

    class TestCamera(SourceKind):
        def validate(self, url, policy):
            return url.lower()

        def create(self, url, *, policy, loop=False, realtime=False, **options):
            made.append((url, loop, realtime, options))
            return FramesFromImages([np.zeros((8, 8, 3), np.uint8)] * 3, url=url)

    register_source("testcam", TestCamera())
    with open_source("testcam://bay-3", loop=True, colour="red") as source:
        assert len(read_all(source)) == 3
    assert made == [("testcam://bay-3", True, False, {"colour": "red"})]
    unopened = create_source("testcam://bay-4")
    assert not unopened.is_open
    assert source_validate("testcam://BAY-5") == "testcam://bay-5"
    with pytest.raises(TypeError):
        register_source("oldstyle", lambda url, **options: None)


def test_frames_from_images_loop_and_timestamps():
    images = [np.full((4, 4, 3), i, np.uint8) for i in range(3)]
    with FramesFromImages(images, fps=10) as source:
        frames = read_all(source)
    assert [f.index for f in frames] == [0, 1, 2] and [f.timestamp for f in frames] == pytest.approx([0, 0.1, 0.2])
    with FramesFromImages(images, fps=10, loop=True) as source:
        looped = read_all(source, limit=7)
    assert [int(f.image[0, 0, 0]) for f in looped] == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(ValueError):
        FramesFromImages(images, fps=0)


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff()
    assert [backoff.next() for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next() == 1
    for _ in range(5000):
        backoff.next()  # no overflow after a very long outage
    assert backoff.next() == 30
    with pytest.raises(ValueError):
        Backoff(initial=0)


def test_redact_url_hides_passwords_only():
    assert redact_url("rtsp://admin:hunter2@10.0.0.5:554/s1") == "rtsp://admin:\u2022\u2022\u2022@10.0.0.5:554/s1"
    assert redact_url("rtsp://10.0.0.5/s1") == "rtsp://10.0.0.5/s1"
    assert redact_url("/videos/demo.mp4") == "/videos/demo.mp4"
    assert "hunter2" not in repr(create_source("rtsp://admin:hunter2@10.0.0.5/s1"))
