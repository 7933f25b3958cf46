import cv2
import numpy as np

from recognition.ml import QualityPolicy, SingleFaceOutcome


def test_analyse_batches_frames_and_fills_every_field(engine, photos, analysed):
    assert [len(analysed[n]) for n in ("t1", "yaoming")] == [6, 1]
    for face in analysed["t1"]:
        assert face.box.shape == (4,) and face.landmarks.shape == (5, 2)
        assert face.aligned_crop.shape == (112, 112, 3)
        assert face.embedding.shape == (512,) and face.model_id == engine.model_id
        assert 0.5 <= face.det_score <= 1 and face.quality.det_score == face.det_score
    without = engine.analyse([photos["yaoming"]], embed=False)[0]
    assert without[0].embedding is None
    assert engine.analyse([]) == []


def test_one_face(engine, photos, analysed):
    result = engine.embed_single_face(photos["yaoming"], policy=QualityPolicy())
    assert result.outcome is SingleFaceOutcome.ONE_FACE and result.face_count == 1
    assert not result.several_faces and result.refusal_reasons == []
    assert result.embedding @ analysed["yaoming"][0].embedding > 0.999
    assert result.model_id == engine.pack.recogniser.model_id


def test_several_faces_returns_the_largest_with_a_warning(engine, photos, analysed):
    result = engine.embed_single_face(photos["t1"])
    assert result.outcome is SingleFaceOutcome.SEVERAL_FACES and result.several_faces and result.face_count == 6
    assert result.face.area == max(f.area for f in analysed["t1"])


def test_no_face(engine):
    result = engine.embed_single_face(np.full((300, 300, 3), 200, np.uint8))
    assert result.outcome is SingleFaceOutcome.NO_FACE and result.face is None and result.embedding is None
    assert result.refusal_reasons == ["no face found in the image"]


def test_accepts_encoded_bytes_and_reports_quality_refusals(engine, photo_paths, photos):
    from_bytes = engine.embed_single_face(photo_paths["yaoming"].read_bytes())
    assert from_bytes.outcome is SingleFaceOutcome.ONE_FACE
    tiny = np.full((300, 300, 3), 120, np.uint8)
    small = cv2.resize(photos["yaoming"], None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    tiny[100 : 100 + small.shape[0], 100 : 100 + small.shape[1]] = small
    refused = engine.embed_single_face(tiny, policy=QualityPolicy())
    assert refused.outcome is SingleFaceOutcome.ONE_FACE and refused.embedding is not None
    assert any(r.startswith("face too small") for r in refused.refusal_reasons)


def test_tightly_cropped_reference_image_still_finds_its_face(engine, photos, analysed):
    # A face filling the whole image is missed by SCRFD at 640x640; enrolment retries with a border.
    x1, y1, x2, y2 = analysed["yaoming"][0].box.astype(int)
    tight = photos["yaoming"][y1:y2, x1:x2].copy()
    assert len(engine.detector.detect_one(tight)) == 0
    result = engine.embed_single_face(tight)
    assert result.outcome is SingleFaceOutcome.ONE_FACE
    assert result.embedding @ analysed["yaoming"][0].embedding > 0.6
    assert np.all(result.face.landmarks >= 0) and np.all(result.face.landmarks < tight.shape[1::-1])


def test_many_reference_images_in_one_call(engine, photos, analysed):
    x1, y1, x2, y2 = analysed["yaoming"][0].box.astype(int)
    images = [photos["yaoming"], photos["t1"], np.full((200, 200, 3), 50, np.uint8), photos["yaoming"][y1:y2, x1:x2].copy()]
    results = engine.embed_single_faces(images)
    assert [r.outcome for r in results] == [SingleFaceOutcome.ONE_FACE, SingleFaceOutcome.SEVERAL_FACES,
                                            SingleFaceOutcome.NO_FACE, SingleFaceOutcome.ONE_FACE]
    single = engine.embed_single_face(photos["t1"])
    assert results[1].embedding @ single.embedding > 0.999


def test_small_photos_can_be_detected_on_a_smaller_canvas(engine, photos):
    """A detector at another size shares the model session, and finds the same face in a small photo."""
    small = engine.detector_at((320, 320))
    assert small is engine.detector_at((320, 320)) and small.backend is engine.detector.backend
    assert engine.detector_at(None) is engine.detector
    photo = cv2.resize(photos["yaoming"], (250, 250 * photos["yaoming"].shape[0] // photos["yaoming"].shape[1]))
    default, reduced = engine.embed_single_faces([photo]), engine.embed_single_faces([photo], det_size=(320, 320))
    assert default[0].face_count == reduced[0].face_count == 1
    assert float(np.dot(default[0].embedding, reduced[0].embedding)) > 0.98


def test_reference_images_are_detected_at_the_input_their_size_calls_for(engine, photos):
    """Small photos on the small canvas, others on the engine's own; results in the order given."""
    small = cv2.resize(photos["yaoming"], (250, 250 * photos["yaoming"].shape[0] // photos["yaoming"].shape[1]))
    images = [photos["t1"], small, photos["yaoming"]]
    results = engine.embed_reference_images(images)
    assert [r.outcome for r in results] == [SingleFaceOutcome.SEVERAL_FACES, SingleFaceOutcome.ONE_FACE,
                                            SingleFaceOutcome.ONE_FACE]
    on_small_canvas = engine.embed_single_faces([small], det_size=(320, 320))[0]
    assert float(np.dot(results[1].embedding, on_small_canvas.embedding)) > 0.999
    assert engine.embed_reference_images([]) == []
