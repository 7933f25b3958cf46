"""A real RTSP camera (GStreamer's RTSP server, bench/rtsp_server.py) through our StreamSource and run_cameras:
steady frames, a looping video, a server restart with reconnect and back-off, credentials in the URL."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

from bench.rtsp_server import RtspServer
from recognition.batch import face_context_crop
from recognition.demo_media import walking_face_video
from recognition.ml.matcher import WatchlistMatcher
from recognition.ml.quality import QualityPolicy
from recognition.run_loop import run_cameras
from recognition.source_urls import DestinationPolicy, network_url_checked
from recognition.sources import Backoff, SourcePolicy, SourceUnavailable, StreamSource, create_source, open_source
from recognition.stream_diagnosis import open_failure_reason
from tests.recognition.stream_servers import require_rtsp_server
from tests.samples import SHARED_DATA, person_crops

STREET = SHARED_DATA / "video" / "facenet_pytorch_video.mp4"
LOOPBACK = SourcePolicy(destinations=DestinationPolicy.parse("127.0.0.1/32"))  # the test servers listen there
PASSWORD = "p@ss:w0rd/#1"  # every character that needs encoding in a URL


@pytest.fixture(scope="module")
def rtsp_available():
    require_rtsp_server()


@pytest.fixture
def rtsp_server(rtsp_available):
    servers = []

    def start(**options) -> RtspServer:
        server = RtspServer(**options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def engine():
    from recognition.runtime import face_engine

    return face_engine()


def read_frames(source, count: int, *, deadline_s: float = 30.0) -> list:
    frames, deadline = [], time.monotonic() + deadline_s
    while len(frames) < count and time.monotonic() < deadline:
        frame = source.read()
        assert frame is not None, f"the stream failed after {len(frames)} frames: {source.failed_reason}"
        frames.append(frame)
    return frames


def test_an_rtsp_camera_streams_steady_frames(rtsp_server):
    server = rtsp_server(width=320, height=240, fps=25)
    with open_source(server.url(), policy=LOOPBACK, open_timeout=5, read_timeout=3) as source:
        assert isinstance(source, StreamSource) and source.live
        assert source.fps == pytest.approx(25, abs=0.5)
        frames = read_frames(source, 75)  # 3 s of camera time, every read answered
    assert [f.index for f in frames] == list(range(75))
    assert all(f.image.shape == (240, 320, 3) for f in frames)
    assert all(b.timestamp >= a.timestamp for a, b in zip(frames, frames[1:]))
    assert frames[-1].timestamp - frames[0].timestamp > 1.0  # paced by the camera, not a burst
    assert any(f.image.any() for f in frames)


def test_a_video_file_is_served_looping_in_real_time(rtsp_server, tmp_path):
    video = walking_face_video(face=person_crops("t1")[0], path=tmp_path / "walk.mp4", seconds=1, fps=10,
                               size=(320, 180), face_height=60)
    server = rtsp_server(video=video, fps=10)
    with open_source(server.url(), policy=LOOPBACK, open_timeout=5, read_timeout=3) as source:
        frames = read_frames(source, 60)  # six plays of the ten-frame file
    # FFmpeg buffers what arrives while it probes the stream (a few seconds at 10 fps), then it is real time.
    assert frames[-1].timestamp - frames[0].timestamp > 1.0
    assert {f.image.shape for f in frames} == {(180, 320, 3)}


def test_the_rtsp_server_restarts_on_its_port_and_its_url_encodes_the_credentials(rtsp_server):
    server = rtsp_server(width=160, height=120, fps=10, user="officer", password=PASSWORD)
    url = server.url()
    assert url == f"rtsp://officer:p%40ss%3Aw0rd%2F%231@127.0.0.1:{server.port}/stream"
    assert server.url(with_credentials=False) == f"rtsp://127.0.0.1:{server.port}/stream"
    assert "w0rd" not in repr(server) and "w0rd" not in " ".join(server.command())  # not on a command line
    server.restart(down_for=0.5)
    assert server.running and server.starts == 2 and server.url() == url
    with open_source(url, policy=LOOPBACK, open_timeout=5, read_timeout=3) as source:
        assert len(read_frames(source, 5)) == 5
    server.stop()
    server.stop()  # twice is fine
    assert not server.running
    with pytest.raises(ValueError):
        RtspServer(user="officer")


def test_an_rtsp_camera_with_the_wrong_codec_says_it_has_no_video(rtsp_server):
    server = rtsp_server(audio_only=True)  # a working RTSP stream of G.711 audio, no video track
    with pytest.raises(SourceUnavailable, match=r"the camera's stream has no video \(it offers audio\)"):
        open_source(server.url(), policy=LOOPBACK, open_timeout=5)


@pytest.mark.slow
def test_run_cameras_reconnects_with_back_off_after_the_server_restarts(rtsp_server, engine):
    server = rtsp_server(width=320, height=240, fps=15, user="officer", password=PASSWORD)
    statuses: list[tuple[str, str]] = []
    processed = {"before": 0, "after": 0}
    phase = {"name": "before"}
    fault_done = threading.Event()
    deadline = time.monotonic() + 90

    def break_the_camera():
        # The fault: the server goes away for 4 s once the camera has streamed, then comes back on its port.
        while processed["before"] < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()
        while not any(s == "lost" for s, _ in statuses) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(4)
        phase["name"] = "after"
        server.start()
        fault_done.set()

    def on_stats(report):
        processed[phase["name"]] += report.cameras["cam"].frames_processed

    def should_continue():
        reconnected = fault_done.is_set() and statuses[-1][0] == "connected" and processed["after"] >= 10
        return not reconnected and time.monotonic() < deadline

    source = create_source(server.url(), policy=LOOPBACK, open_timeout=3, read_timeout=2)
    breaker = threading.Thread(target=break_the_camera, daemon=True)
    breaker.start()
    summary = run_cameras(sources={"cam": source}, engine=engine, matcher=None, threshold=0.5,
                          should_continue=should_continue, on_alert=lambda a: None, on_stats=on_stats,
                          on_source_status=lambda camera, status, detail: statuses.append((status, detail)),
                          stats_interval=0.2, backoff=lambda: Backoff(initial=0.5, maximum=2.0))
    breaker.join(10)
    assert summary.reason == "stopped" and time.monotonic() < deadline, statuses
    names = [s for s, _ in statuses]
    lost = names.index("lost")
    assert names[0] == "connected" and names[-1] == "connected"
    retries = names[lost + 1:-1]
    assert retries and set(retries) == {"unavailable"}  # the server was down: each reopen failed...
    delays = [float(re.search(r"retrying in ([\d.]+) s", d).group(1)) for s, d in statuses[lost + 1:-1]]
    assert delays == sorted(delays) and delays[0] == 1.0 and max(delays) <= 2.0  # ...each after a longer wait
    assert "reconnecting in 0.5 s" in statuses[lost][1]
    assert processed["before"] >= 10 and processed["after"] >= 10
    assert all(PASSWORD not in d and "w0rd" not in d for _, d in statuses)


@pytest.mark.slow
def test_a_stalled_rtsp_camera_is_lost_retried_and_streams_again_when_it_recovers(rtsp_server, engine):
    server = rtsp_server(width=160, height=120, fps=10)
    statuses: list[tuple[str, str]] = []
    recovered = threading.Event()
    deadline = time.monotonic() + 90

    def stall_the_camera():
        while not statuses and time.monotonic() < deadline:
            time.sleep(0.05)
        server.pause()  # the fault: the connection stays open and nothing more is sent
        while not [d for s, d in statuses if s == "unavailable"] and time.monotonic() < deadline:
            time.sleep(0.05)
        server.resume()
        recovered.set()

    def should_continue():
        return time.monotonic() < deadline and not (recovered.is_set() and statuses[-1][0] == "connected")

    staller = threading.Thread(target=stall_the_camera, daemon=True)
    staller.start()
    run_cameras(sources={"cam": create_source(server.url(), policy=LOOPBACK, open_timeout=2, read_timeout=1.5)},
                engine=engine, matcher=None, threshold=0.5, on_alert=lambda a: None, should_continue=should_continue,
                on_source_status=lambda camera, status, detail: statuses.append((status, detail)),
                backoff=lambda: Backoff(initial=0.3, maximum=1.0))
    staller.join(10)
    names = [s for s, _ in statuses]
    assert time.monotonic() < deadline and names[0] == "connected" and names[-1] == "connected", statuses
    lost = names.index("lost")
    assert "no frame within 1.5 s: the camera stopped sending" in statuses[lost][1]
    assert any(s == "unavailable" and "timed out" in d for s, d in statuses[lost + 1:])


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_credentials_in_the_url_right_ones_stream_wrong_ones_say_so_and_never_show(rtsp_server, engine, caplog,
                                                                                  capfd, auth):
    server = rtsp_server(width=160, height=120, fps=10, user="officer", password=PASSWORD, auth=auth)
    caplog.set_level(logging.DEBUG)
    with open_source(server.url(), policy=LOOPBACK, open_timeout=5, read_timeout=3) as source:
        assert len(read_frames(source, 10)) == 10
        assert "w0rd" not in repr(source)
    # The diagnosis answers the camera's challenge as FFmpeg does: with the right credentials, nothing to report.
    checked = network_url_checked(server.url(), scheme="rtsp", policy=LOOPBACK.destinations, default_port=554)
    assert open_failure_reason(checked, timeout=5) is None

    wrong = server.url().replace("w0rd", "guess")
    with pytest.raises(SourceUnavailable, match="refused the user name or password") as refused:
        open_source(wrong, policy=LOOPBACK, open_timeout=5)
    with pytest.raises(SourceUnavailable, match="requires a user name and password and the URL has none"):
        open_source(server.url(with_credentials=False), policy=LOOPBACK, open_timeout=5)
    assert "guess" not in str(refused.value) and "officer:\u2022\u2022\u2022@" in str(refused.value)

    # The camera status a worker reports, from the same run loop: clear, retried, no password.
    statuses = []
    started = time.monotonic()
    run_cameras(sources={"cam": create_source(wrong, policy=LOOPBACK, open_timeout=3)}, engine=engine, matcher=None,
                threshold=0.5, on_alert=lambda a: None,
                should_continue=lambda: len(statuses) < 2 and time.monotonic() - started < 30,
                on_source_status=lambda camera, status, detail: statuses.append((status, detail)),
                backoff=lambda: Backoff(initial=0.2, maximum=0.4))
    assert [s for s, _ in statuses][:2] == ["unavailable", "unavailable"]
    assert "refused the user name or password" in statuses[0][1] and "retrying in" in statuses[0][1]
    shown = [d for _, d in statuses] + [r.getMessage() for r in caplog.records] + list(capfd.readouterr())
    assert not [text for text in shown if "w0rd" in text or "guess" in text]


@pytest.mark.slow
@pytest.mark.skipif(not STREET.is_file(), reason=f"shared street video absent ({STREET})")
def test_the_street_video_over_rtsp_alerts_on_an_enrolled_pedestrian(rtsp_server, engine):
    # Enrolled from the file itself, as test_pipeline does: the most frontal clear pedestrian of frame 3.
    with open_source(STREET) as source:
        frame = [source.read() for _ in range(4)][-1].image
    faces = engine.analyse([frame], embed=False)[0]
    chosen = max([f for f in faces if QualityPolicy(min_inter_ocular_px=20).accepts(f.quality)] or faces,
                 key=lambda f: f.quality.score)
    reference = engine.embed_single_face(face_context_crop(frame, chosen.box, scale=3.0, max_side=4000)).embedding
    matcher = WatchlistMatcher(references=reference[None], subject_ids=["pedestrian"])

    server = rtsp_server(video=STREET, fps=25)  # 1080p H.264, looping, in real time
    alerts, statuses = [], []
    deadline = time.monotonic() + 90
    summary = run_cameras(sources={"street": create_source(server.url(), policy=LOOPBACK, open_timeout=10)},
                          engine=engine, matcher=matcher, threshold=0.5, on_alert=alerts.append,
                          should_continue=lambda: not alerts and time.monotonic() < deadline,
                          on_source_status=lambda camera, status, detail: statuses.append(status))
    assert [a.subject_id for a in alerts] == ["pedestrian"], (statuses, summary.cameras["street"])
    assert statuses[0] == "connected" and summary.cameras["street"].faces_seen > 0
