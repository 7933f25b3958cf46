"""Stream faults cost that camera only: cameras that stall, drop or serve garbage (non-video bytes, audio, a
playlist of a thousand segments, 8000x8000 frames), each served by a small real server, run in ONE
run_cameras loop beside a steady camera; each gets a clear status, the steady one never notices. And the
frame-size cap (CAMERA_MAX_FRAME_PIXELS) that bounds a worker's memory."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.run_loop import run_cameras
from recognition.source_urls import DestinationPolicy
from recognition.sources import (
    DEFAULT_MAX_FRAME_PIXELS,
    Backoff,
    SourcePolicy,
    SourceRefused,
    SourceUnavailable,
    create_source,
    open_source,
)
from tests.recognition.stream_servers import (
    FakeCameraServer,
    SilentServer,
    basic_auth,
    body,
    garbage_bytes,
    hls_playlist,
    jpeg,
    mjpeg,
    silent_tcp_server,
    wav_audio,
)

DESTINATIONS = DestinationPolicy.parse("127.0.0.1/32")  # the test servers listen there
LOOPBACK = SourcePolicy(destinations=DESTINATIONS)


@pytest.fixture(scope="module")
def engine():
    from recognition.runtime import face_engine

    return face_engine()


@pytest.fixture(scope="module")
def faulty_cameras():
    frames = [jpeg(320, 240, level) for level in range(60, 200, 10)]
    huge = jpeg(8000, 8000, grey=True)  # 64 megapixels: ~190 MB a frame once decoded to BGR
    routes = {
        "/steady.mjpg": mjpeg(lambda i: frames[i % len(frames)]),
        "/stalls.mjpg": mjpeg(lambda i: frames[i] if i < 3 else None, then="stall"),
        "/drops.mjpg": mjpeg(lambda i: frames[i] if i < 5 else None, then="drop"),
        "/garbage": body(garbage_bytes(), "application/octet-stream"),
        "/audio.wav": body(wav_audio(), "audio/wav"),
        "/live.m3u8": body(hls_playlist(1000), "application/vnd.apple.mpegurl"),
        "/huge.mjpg": mjpeg(lambda i: huge if i < 100 else None),
    }
    with FakeCameraServer(routes) as server, silent_tcp_server() as silent_port:
        yield server, f"http://127.0.0.1:{silent_port}/video"


EXPECTED = {  # camera: (the status it must reach, words its detail must say)
    "stalls": ("lost", "no frame within 1.5 s: the camera stopped sending"),
    "drops": ("lost", "the camera closed the connection"),
    "silent": ("unavailable", "timed out after"),
    "garbage": ("unavailable", "(application/octet-stream) is not a video stream"),
    "audio": ("unavailable", "(audio/wav) is not a video stream"),
    "playlist": ("unavailable", "serves an HLS playlist: playlists are refused"),
    "huge": ("unavailable", "refused: frames of 8000x8000 (64,000,000 pixels) are larger than CAMERA_MAX_FRAME_PIXELS"),
}


@pytest.mark.slow
def test_faulty_cameras_cost_themselves_only(engine, faulty_cameras):
    server, silent_url = faulty_cameras
    urls = {"steady": server.url("/steady.mjpg"), "stalls": server.url("/stalls.mjpg"),
            "drops": server.url("/drops.mjpg"), "silent": silent_url, "garbage": server.url("/garbage"),
            "audio": server.url("/audio.wav"), "playlist": server.url("/live.m3u8"),
            "huge": server.url("/huge.mjpg")}
    sources = {name: create_source(url, policy=LOOPBACK, open_timeout=1.5, read_timeout=1.5)
               for name, url in urls.items()}
    statuses: dict[str, list[tuple[str, str]]] = {name: [] for name in urls}
    steady = {"processed": 0, "when_every_fault_was_seen": None}
    deadline = time.monotonic() + 120

    def every_fault_seen_twice() -> bool:
        # Twice: the camera was retried (with back-off) and failed the same clear way again.
        return all(sum(1 for s, d in statuses[name] if s == status and words in d) >= 2
                   for name, (status, words) in EXPECTED.items())

    def on_stats(report):
        steady["processed"] += report.cameras["steady"].frames_processed

    def should_continue():
        if steady["when_every_fault_was_seen"] is None and every_fault_seen_twice():
            steady["when_every_fault_was_seen"] = steady["processed"]
        seen = steady["when_every_fault_was_seen"]
        return time.monotonic() < deadline and (seen is None or steady["processed"] < seen + 20)

    summary = run_cameras(sources=sources, engine=engine, matcher=None, threshold=0.5,
                          should_continue=should_continue, on_alert=lambda a: None, on_stats=on_stats,
                          on_source_status=lambda camera, status, detail: statuses[camera].append((status, detail)),
                          stats_interval=0.2, backoff=lambda: Backoff(initial=0.3, maximum=1.0))

    assert time.monotonic() < deadline, {name: s[-2:] for name, s in statuses.items()}
    assert statuses["steady"] == [("connected", urls["steady"])]  # never lost while the others failed...
    assert steady["processed"] >= steady["when_every_fault_was_seen"] + 20  # ...and kept streaming after
    assert summary.cameras["steady"].frames_processed >= 20
    for name, (status, words) in EXPECTED.items():
        failures = [d for s, d in statuses[name] if s == status]
        assert any(words in d for d in failures), (name, statuses[name][:3])
    for name in ("stalls", "drops"):  # they streamed, failed, and were connected again
        assert [s for s, _ in statuses[name]].count("connected") >= 2
    for name in ("silent", "garbage", "audio", "playlist", "huge"):
        assert summary.cameras[name].frames_processed == 0
    # The playlist was read, and none of its thousand segments was fetched.
    assert server.requests["/live.m3u8"] >= 2
    assert not [path for path in server.requests if path.startswith("/segment-")]
    assert not any(source.is_open for source in sources.values())


def test_the_frame_size_cap_refuses_a_stream_by_its_declared_size_when_it_opens():
    frames = {"/vga.mjpg": jpeg(640, 480), "/qvga.mjpg": jpeg(320, 240)}
    routes = {path: mjpeg(lambda i, image=image: image if i < 50 else None) for path, image in frames.items()}
    capped = SourcePolicy(destinations=DESTINATIONS, max_frame_pixels=320 * 240)
    with FakeCameraServer(routes) as server:
        with pytest.raises(SourceRefused, match=r"frames of 640x480 \(307,200 pixels\) are larger than "
                                                r"CAMERA_MAX_FRAME_PIXELS \(76,800\)"):
            open_source(server.url("/vga.mjpg"), policy=capped, open_timeout=3)
        with open_source(server.url("/qvga.mjpg"), policy=capped, open_timeout=3, read_timeout=3) as source:
            assert source.read().image.shape == (240, 320, 3)
    assert DEFAULT_MAX_FRAME_PIXELS >= 3840 * 2160 and SourcePolicy().max_frame_pixels == DEFAULT_MAX_FRAME_PIXELS


def test_the_frame_size_cap_applies_to_video_files(tmp_path):
    path = tmp_path / "vga.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for _ in range(3):
        writer.write(np.zeros((480, 640, 3), np.uint8))
    writer.release()
    with pytest.raises(SourceRefused, match="frames of 640x480"):
        open_source(path, policy=SourcePolicy(max_frame_pixels=640 * 479))
    with open_source(path, policy=SourcePolicy(max_frame_pixels=640 * 480)) as source:
        assert source.read() is not None


# A worker-like process that opens an 8000x8000 camera three times and reports how much its peak memory grew.
OPEN_A_HUGE_CAMERA = """
import resource, sys
import cv2
from recognition.source_urls import DestinationPolicy
from recognition.sources import SourcePolicy, SourceUnavailable, open_source

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

policy = SourcePolicy(destinations=DestinationPolicy.parse("127.0.0.1/32"))
before = peak_mb()
for _ in range(3):
    try:
        with open_source(sys.argv[1], policy=policy, open_timeout=3, read_timeout=3) as source:
            frame = source.read()
            print("read", None if frame is None else frame.image.shape)
    except SourceUnavailable as exc:
        print(exc)
print("GROWTH_MB", peak_mb() - before)
"""


def test_a_worker_s_memory_stays_bounded_against_8000x8000_frames():
    huge = jpeg(8000, 8000)  # made here, so that only the camera's frames count in the worker's peak
    with FakeCameraServer({"/huge.mjpg": mjpeg(lambda i: huge if i < 100 else None)}) as server:
        done = subprocess.run([sys.executable, "-c", OPEN_A_HUGE_CAMERA, server.url("/huge.mjpg")],
                              capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    growth = float(lines[-1].split()[-1])
    assert growth < 100, lines  # one such frame decoded to BGR is ~190 MB; without the cap the peak grew ~650 MB
    assert sum("larger than CAMERA_MAX_FRAME_PIXELS" in line for line in lines) == 3, lines


class _CaptureThatGrows:
    """Stands in for cv2.VideoCapture in a unit test of StreamSource.read: a stream whose frames grow."""

    def __init__(self, images):
        self.images = list(images)

    def read(self):
        return True, self.images.pop(0)

    def release(self):
        pass


def test_a_frame_larger_than_the_cap_mid_stream_ends_the_read_with_the_reason():
    source = create_source("http://10.0.0.5/video.mjpg", policy=SourcePolicy(max_frame_pixels=100 * 100))
    source._capture = _CaptureThatGrows([np.zeros((100, 100, 3), np.uint8), np.zeros((101, 100, 3), np.uint8)])
    source._start = time.monotonic()
    assert source.read().image.shape == (100, 100, 3)
    assert source.read() is None
    assert "frames of 100x101 (10,100 pixels) are larger than CAMERA_MAX_FRAME_PIXELS (10,000)" in source.failed_reason


def test_the_cap_comes_from_the_setting(settings):
    from deployments.camera_sources import camera_source_policy

    settings.CAMERA_MAX_FRAME_PIXELS = 1920 * 1080
    assert camera_source_policy().max_frame_pixels == 1920 * 1080


@pytest.mark.slow
def test_a_camera_that_hangs_while_opening_does_not_hold_up_another_camera_s_open():
    steady = [jpeg(320, 240, level) for level in range(60, 200, 10)]
    with FakeCameraServer({"/steady.mjpg": mjpeg(lambda i: steady[i % len(steady)])}) as server, \
            SilentServer() as silent:
        hanging = threading.Thread(target=_open_expecting_failure, args=(f"http://127.0.0.1:{silent.port}/live",),
                                   daemon=True)
        hanging.start()
        wait_until(lambda: silent.accepted == 1)  # FFmpeg is connected to the silent camera and waiting
        with open_source(server.url("/steady.mjpg"), policy=LOOPBACK, open_timeout=5, read_timeout=5) as source:
            assert source.read() is not None
            # Still one connection: the silent camera's open has not yet timed out (its diagnosis would be
            # the second), so the steady camera did not wait for it.
            assert silent.accepted == 1
        hanging.join(30)
    assert not hanging.is_alive()


def _open_expecting_failure(url: str) -> None:
    with pytest.raises(SourceUnavailable, match="timed out"):
        open_source(url, policy=LOOPBACK, open_timeout=6)


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_an_http_camera_says_which_credentials_or_path_are_wrong_and_never_shows_the_password():
    frames = [jpeg(160, 120)] * 50
    routes = {"/video.mjpg": basic_auth("viewer", "s3cret:pw", mjpeg(lambda i: frames[i] if i < 50 else None))}
    with FakeCameraServer(routes) as server:
        base = f"http://viewer:s3cret%3Apw@127.0.0.1:{server.port}"
        with open_source(f"{base}/video.mjpg", policy=LOOPBACK, open_timeout=3, read_timeout=3) as source:
            assert source.read().image.shape == (120, 160, 3)
        refusals = {}
        for case, url in {"wrong": f"{base.replace('s3cret', 'guess')}/video.mjpg",
                          "none": f"http://127.0.0.1:{server.port}/video.mjpg", "path": f"{base}/nope.mjpg"}.items():
            with pytest.raises(SourceUnavailable) as refused:
                open_source(url, policy=LOOPBACK, open_timeout=3)
            refusals[case] = str(refused.value)
    assert "the camera refused the user name or password in the URL (HTTP 401)" in refusals["wrong"]
    assert "requires a user name and password and the URL has none (HTTP 401)" in refusals["none"]
    assert "the camera has no stream at this path (HTTP 404)" in refusals["path"]
    assert not [text for text in refusals.values() if "s3cret" in text or "guess" in text]
