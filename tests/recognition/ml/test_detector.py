import cv2
import numpy as np
import pytest

from recognition.ml import Detections, FaceDetector

# Faces SCRFD-500M finds at 640x640, score >= 0.5 (measured: t1 6, players 22, gdp 5, yaoming 1).
EXPECTED_FACES = {"t1": (6, 6), "players": (19, 24), "gdp": (4, 6), "yaoming": (1, 1)}


@pytest.mark.parametrize("name", sorted(EXPECTED_FACES))
def test_face_counts_on_packaged_photos(engine, photos, name):
    low, high = EXPECTED_FACES[name]
    assert low <= len(engine.detector.detect_one(photos[name])) <= high


@pytest.mark.parametrize("name", sorted(EXPECTED_FACES))
def test_same_output_as_insightface_scrfd(engine, photos, insightface_scrfd, name):
    ours = engine.detector.detect_one(photos[name])
    boxes, landmarks = insightface_scrfd.detect(photos[name], input_size=(640, 640), det_thresh=0.5)
    assert len(ours) == len(boxes)
    np.testing.assert_allclose(ours.boxes, boxes[:, :4], atol=0.05)
    np.testing.assert_allclose(ours.scores, boxes[:, 4], atol=1e-4)
    np.testing.assert_allclose(ours.landmarks, landmarks, atol=0.05)


def test_same_output_as_insightface_at_a_wide_input_size(engine, photos, insightface_scrfd):
    wide = FaceDetector(backend=engine.detector.backend, spec=engine.detector.spec, input_size=(1280, 736))
    ours = wide.detect_one(photos["players"])
    boxes, _ = insightface_scrfd.detect(photos["players"], input_size=(1280, 736), det_thresh=0.5)
    assert len(ours) == len(boxes)
    np.testing.assert_allclose(ours.boxes, boxes[:, :4], atol=0.05)


def test_landmarks_lie_inside_their_boxes_and_outputs_are_typed(analysed):
    for faces in analysed.values():
        for face in faces:
            x1, y1, x2, y2 = face.box
            margin = 0.1 * (x2 - x1)
            assert np.all((face.landmarks[:, 0] >= x1 - margin) & (face.landmarks[:, 0] <= x2 + margin))
            assert np.all((face.landmarks[:, 1] >= y1 - margin) & (face.landmarks[:, 1] <= y2 + margin))
            assert face.landmarks[0, 0] < face.landmarks[1, 0]  # eyes ordered image-left first


def test_detections_arrays_have_documented_shapes(engine, photos):
    found = engine.detector.detect_one(photos["t1"])
    assert found.boxes.shape == (6, 4) and found.boxes.dtype == np.float32
    assert found.landmarks.shape == (6, 5, 2) and found.landmarks.dtype == np.float32
    assert found.scores.shape == (6,) and np.all(np.diff(found.scores) <= 0)


def test_batched_detection_equals_one_by_one(engine, photos):
    frames = [photos["t1"], photos["players"], photos["yaoming"], photos["gdp"], photos["t1"][:, ::-1].copy()]
    batched = engine.detector.detect(frames)
    for frame, together in zip(frames, batched, strict=True):
        alone = engine.detector.detect_one(frame)
        assert len(alone) == len(together)
        np.testing.assert_allclose(together.boxes, alone.boxes, atol=1e-2)
        np.testing.assert_allclose(together.landmarks, alone.landmarks, atol=1e-2)


def test_boxes_map_back_to_original_coordinates(engine, photos):
    original = engine.detector.detect_one(photos["yaoming"])
    bigger = engine.detector.detect_one(cv2.resize(photos["yaoming"], None, fx=3, fy=3))
    np.testing.assert_allclose(bigger.boxes[0] / 3, original.boxes[0], atol=3.0)


def test_blank_and_greyscale_frames(engine, photos):
    blank = np.full((480, 640, 3), 90, np.uint8)
    grey = cv2.cvtColor(photos["yaoming"], cv2.COLOR_BGR2GRAY)
    results = engine.detector.detect([blank, grey])
    assert len(results[0]) == 0 and isinstance(results[0], Detections)
    assert len(results[1]) == 1
    assert engine.detector.detect([]) == []


def test_input_size_must_be_multiples_of_32(engine):
    with pytest.raises(ValueError, match="multiples of 32"):
        FaceDetector(backend=engine.detector.backend, spec=engine.detector.spec, input_size=(640, 500))


def test_frames_are_split_into_batches_of_batch_size(engine, photos):
    two_at_a_time = FaceDetector(backend=engine.detector.backend, spec=engine.detector.spec, batch_size=2)
    frames = [photos["t1"], photos["players"], photos["yaoming"], photos["gdp"], photos["t1"]]
    chunked, whole = two_at_a_time.detect(frames), engine.detector.detect(frames)
    assert [len(d) for d in chunked] == [len(d) for d in whole] == [6, len(whole[1]), 1, len(whole[3]), 6]
    np.testing.assert_allclose(chunked[4].boxes, whole[0].boxes, atol=1e-2)


@pytest.mark.parametrize(
    "frame", [np.zeros((0, 0, 3), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 2), np.uint8)],
    ids=["empty", "float", "two-channel"],
)
def test_unusable_frames_are_refused(engine, frame):
    with pytest.raises(ValueError, match="frames must be"):
        engine.detector.detect([frame])
