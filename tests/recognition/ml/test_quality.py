import cv2
import numpy as np
import pytest

from recognition.ml import FaceQuality, QualityPolicy, assess_face
from recognition.ml.align import ARCFACE_TEMPLATE_112
from recognition.ml.quality import estimate_pose


def _only_face(engine, image):
    faces = engine.analyse([image], embed=False)[0]
    assert len(faces) == 1
    return faces[0]


def _shrink_onto_canvas(image, scale):
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((320, 320, 3), 120, np.uint8)
    canvas[100 : 100 + small.shape[0], 100 : 100 + small.shape[1]] = small
    return canvas


def test_clean_frontal_face_is_accepted_for_enrolment(analysed):
    quality = analysed["yaoming"][0].quality
    assert QualityPolicy().refusal_reasons(quality) == []
    assert quality.inter_ocular_px > 40 and abs(quality.yaw_deg) < 10 and abs(quality.pitch_deg) < 10


def test_face_with_10_px_between_the_eyes_is_refused_with_the_numbers(engine, photos, analysed):
    scale = 10 / analysed["yaoming"][0].quality.inter_ocular_px
    face = _only_face(engine, _shrink_onto_canvas(photos["yaoming"], scale))
    assert 8 <= face.quality.inter_ocular_px <= 12
    reasons = QualityPolicy().refusal_reasons(face.quality)
    assert any(r.startswith("face too small:") and "need at least 30" in r for r in reasons), reasons


def test_heavily_blurred_face_is_refused(engine, photos):
    face = _only_face(engine, cv2.GaussianBlur(photos["yaoming"], (0, 0), 4))
    reasons = QualityPolicy().refusal_reasons(face.quality)
    assert any(r.startswith("face too blurred") for r in reasons), reasons
    assert not any(r.startswith("face too small") for r in reasons)


def test_dark_face_is_refused(engine, photos):
    face = _only_face(engine, (photos["yaoming"] * 0.12).astype(np.uint8))
    assert any(r.startswith("face too dark") for r in QualityPolicy().refusal_reasons(face.quality))


def test_quality_score_prefers_the_clean_frame(engine, photos, analysed):
    clean = analysed["yaoming"][0].quality.score
    blurred = _only_face(engine, cv2.GaussianBlur(photos["yaoming"], (0, 0), 4)).quality.score
    small = _only_face(engine, _shrink_onto_canvas(photos["yaoming"], 0.3)).quality.score
    assert clean > blurred and clean > small
    assert 0.0 <= min(blurred, small) and clean <= 1.0


def test_live_policy_accepts_smaller_faces_than_enrolment(analysed):
    team_face = analysed["players"][0].quality  # about 19 px between the eyes
    assert QualityPolicy().refusal_reasons(team_face)
    assert QualityPolicy.live().refusal_reasons(team_face) == []


def test_pose_is_zero_on_the_template_and_signed_when_turned():
    yaw, pitch, roll = estimate_pose(ARCFACE_TEMPLATE_112)
    assert abs(yaw) < 2 and abs(pitch) < 2 and abs(roll) < 1
    turned = ARCFACE_TEMPLATE_112.copy()
    turned[2, 0] += 12  # nose moved towards image right
    assert estimate_pose(turned)[0] > 25
    looking_up = ARCFACE_TEMPLATE_112.copy()
    looking_up[2, 1] -= 8  # nose tip rises towards the eye line
    assert estimate_pose(looking_up)[1] > 15


def test_pose_ignores_in_plane_rotation():
    angle = np.radians(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    yaw, pitch, roll = estimate_pose(ARCFACE_TEMPLATE_112 @ rotation.T)
    assert abs(yaw) < 2 and abs(pitch) < 2 and roll == pytest.approx(30, abs=1)


def test_profile_face_is_refused_for_sideways_pose():
    quality = FaceQuality(inter_ocular_px=50, det_score=0.9, sharpness=200, yaw_deg=50, pitch_deg=0, roll_deg=0,
                          brightness=120, contrast=40)
    reasons = QualityPolicy().refusal_reasons(quality)
    assert reasons == ["face turned too far sideways: about 50 degrees, at most 35 allowed"]


def test_assess_face_measures_the_crop(analysed):
    face = analysed["yaoming"][0]
    grey = np.full((112, 112, 3), 128, np.uint8)
    flat = assess_face(landmarks=face.landmarks, det_score=0.9, aligned_crop=grey)
    assert flat.sharpness == 0 and flat.contrast == 0 and flat.brightness == 128
    assert flat.inter_ocular_px == pytest.approx(face.quality.inter_ocular_px)
