import numpy as np
import pytest

from recognition.ml import Detections, FaceQuality, FaceTracker
from recognition.ml.tracker import _assign, _greedy_assign

FRAMES = 20


def _walk(photo, paster, *, start, step, scales, canvas=None):
    """Frames of a photo translated (and rescaled) across a 960x540 canvas."""
    frames = []
    for i in range(FRAMES):
        x, y = start[0] + step[0] * i, start[1] + step[1] * i
        base = None if canvas is None else canvas[i]
        frames.append(paster(photo, top_left=(x, y), scale=scales[i], canvas=base))
    return frames


@pytest.fixture(scope="module")
def single_walk(engine, photos, canvas_paster):
    frames = _walk(photos["yaoming"], canvas_paster, start=(0, 100), step=(35, 4), scales=np.linspace(0.8, 1.2, FRAMES))
    return engine.analyse(frames, embed=False)


@pytest.fixture(scope="module")
def second_person(photos, analysed):
    x1, y1, x2, y2 = analysed["t1"][2].box.astype(int)
    pad = (x2 - x1) // 2
    return photos["t1"][max(0, y1 - pad) : y2 + pad, max(0, x1 - pad) : x2 + pad].copy()


def _detections(faces):
    if not faces:
        return Detections.empty()
    return Detections(np.stack([f.box for f in faces]), np.stack([f.landmarks for f in faces]),
                      np.array([f.det_score for f in faces], np.float32))


def test_one_face_walking_across_twenty_frames_is_one_track(single_walk):
    tracker = FaceTracker(max_age=3)
    ids = set()
    for index, faces in enumerate(single_walk):
        assert len(faces) == 1
        update = tracker.update(index, _detections(faces), qualities=[f.quality for f in faces],
                                crops=np.stack([f.aligned_crop for f in faces]))
        ids.update(t.track_id for t in update.tracks)
        assert update.closed == []
    assert len(ids) == 1
    [track] = tracker.flush()
    assert track.hits == FRAMES and track.first_seen == 0 and track.last_seen == FRAMES - 1
    best = max(single_walk, key=lambda faces: faces[0].quality.score)[0]
    assert track.best_quality == best.quality
    np.testing.assert_array_equal(track.best_crop, best.aligned_crop)


def test_live_pipeline_embeds_far_fewer_faces_than_it_detects(engine, single_walk):
    tracker = FaceTracker(max_age=3, embed_every=10, embed_margin=0.05)
    embedded = 0
    for index, faces in enumerate(single_walk):
        update = tracker.update(index, _detections(faces), qualities=[f.quality for f in faces])
        for face, track in zip(faces, update.tracks, strict=True):
            if track.should_embed(face.quality):
                vector = engine.embedder.embed(face.aligned_crop[None]).vectors[0]
                track.record_embedding(vector, quality=face.quality)
                embedded += 1
    assert 1 <= embedded <= 7  # vs 20 detections
    [track] = tracker.flush()
    assert track.embed_count == embedded and track.embedding is not None


def test_two_people_walking_are_two_tracks(engine, photos, second_person, canvas_paster):
    first = _walk(photos["yaoming"], canvas_paster, start=(0, 20), step=(30, 0), scales=[0.9] * FRAMES)
    frames = _walk(second_person, canvas_paster, start=(700, 300), step=(-30, -3), scales=[1.0] * FRAMES, canvas=first)
    tracker = FaceTracker(max_age=3)
    ids_by_side = {"left": set(), "right": set()}
    for index, faces in enumerate(engine.analyse(frames, embed=True)):
        assert len(faces) == 2
        update = tracker.update(index, _detections(faces), np.stack([f.embedding for f in faces]))
        for face, track in zip(faces, update.tracks, strict=True):
            ids_by_side["left" if face.box[1] < 250 else "right"].add(track.track_id)
    assert len(ids_by_side["left"]) == 1 and len(ids_by_side["right"]) == 1
    assert ids_by_side["left"] != ids_by_side["right"]
    assert len(tracker.flush()) == 2


def test_a_gap_longer_than_max_age_closes_the_track(single_walk):
    tracker = FaceTracker(max_age=3)
    first_ids = {tracker.update(i, _detections(single_walk[i])).tracks[0].track_id for i in range(5)}
    assert tracker.update(6, Detections.empty()).closed == []
    closed = tracker.update(8, Detections.empty()).closed
    assert [t.track_id for t in closed] == list(first_ids) and closed[0].hits == 5
    later = tracker.update(10, _detections(single_walk[5]))
    assert later.tracks[0].track_id not in first_ids


def _one_box(x, width=100.0):
    box = np.array([[x, 100, x + width, 100 + width]], np.float32)
    landmarks = np.tile(np.array([[x + 30, 140]], np.float32), (1, 5, 1))
    return Detections(box, landmarks, np.array([0.9], np.float32))


def test_embedding_links_a_fast_jump_but_vetoes_a_different_face():
    rng = np.random.default_rng(0)
    person = rng.normal(size=512).astype(np.float32)
    person /= np.linalg.norm(person)
    same = person + 0.3 * rng.normal(size=512).astype(np.float32) / np.sqrt(512)
    stranger = -person
    tracker = FaceTracker(max_age=5)
    first = tracker.update(0, _one_box(100), person[None]).tracks[0]
    jumped = tracker.update(1, _one_box(250), same[None]).tracks[0]  # no overlap, 1.5 face widths away
    assert jumped is first
    overlapping_stranger = tracker.update(2, _one_box(325), stranger[None]).tracks[0]  # where the track is predicted
    assert overlapping_stranger is not first


def test_should_embed_rules():
    def quality(score_scale):
        return FaceQuality(inter_ocular_px=60 * score_scale, det_score=0.9, sharpness=200, yaw_deg=0, pitch_deg=0,
                           roll_deg=0, brightness=120, contrast=40)

    tracker = FaceTracker(embed_every=3, embed_margin=0.05)
    track = tracker.update(0, _one_box(100)).tracks[0]
    assert track.should_embed(quality(0.5))
    track.record_embedding(np.ones(4, np.float32), quality=quality(0.5))
    assert not track.should_embed(quality(0.5))
    assert track.should_embed(quality(1.0))  # clearly better frame
    for frame in (1, 2, 3):
        tracker.update(frame, _one_box(100 + frame))
    assert track.should_embed(quality(0.5))  # periodic refresh


def test_record_match_keeps_the_best_and_alerted_flag_is_the_callers():
    tracker = FaceTracker()
    track = tracker.update(0, _one_box(100)).tracks[0]
    assert track.record_match("subject-1", 0.62, crop=np.zeros((112, 112, 3), np.uint8))
    assert not track.record_match("subject-2", 0.4)
    assert (track.best_match_subject, track.best_match_score) == ("subject-1", 0.62)
    assert track.alerted is False
    track.alerted = True


def test_greedy_fallback_agrees_with_hungarian_on_a_clear_case():
    cost = np.array([[0.1, 0.9, 1e6], [0.8, 0.2, 0.7], [1e6, 0.6, 0.05]])
    assert sorted(_greedy_assign(cost)) == sorted(_assign(cost)) == [(0, 0), (1, 1), (2, 2)]
