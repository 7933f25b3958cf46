import numpy as np
import pytest

from recognition.evaluation.degrade import CctvProfile, degrade_image, draw_params


def test_draws_are_seeded_per_image_and_inside_the_profile():
    profile = CctvProfile()
    a = draw_params(profile, seed=0, image_key="ab" * 32)
    assert a == draw_params(profile, seed=0, image_key="ab" * 32)
    assert a != draw_params(profile, seed=1, image_key="ab" * 32)
    draws = [draw_params(profile, seed=0, image_key=f"{i:064x}") for i in range(200)]
    assert all(24 <= d.target_inter_ocular_px <= 40 for d in draws)
    assert all(0.6 <= d.blur_sigma <= 1.2 and 30 <= d.jpeg_quality <= 50 for d in draws)
    assert {d.jpeg_quality for d in draws} >= {30, 50}


def test_profile_key_names_every_parameter():
    assert CctvProfile().key(0) == "cctv-v1:io24-40:blur0.6-1.2:q30-50:small:seed0"
    assert CctvProfile(upscale=True).key(3).endswith(":upscaled:seed3")


def test_degraded_face_lands_in_the_intended_inter_ocular_range(people, photo_engine):
    """On a real photo (insightface's t1.jpg): the detector finds the degraded face with its eyes
    24-40 px apart (a little slack for landmark noise on a blurred, compressed face)."""
    profile = CctvProfile()
    clean = people[0]
    face = photo_engine.analyse([clean], embed=False)[0]
    source_io = max(face, key=lambda f: f.area).quality.inter_ocular_px
    assert source_io > 45
    measured = []
    for index in range(6):
        params = draw_params(profile, seed=0, image_key=f"t1-person0-{index}")
        degraded, applied = degrade_image(clean, inter_ocular_px=source_io, params=params)
        assert applied["inter_ocular_px"] == pytest.approx(params.target_inter_ocular_px, rel=1e-3)
        assert degraded.shape[0] == pytest.approx(clean.shape[0] * applied["scale"], abs=1)
        faces = photo_engine.analyse([degraded], embed=False)[0]
        assert faces, f"no face found after degrading with {applied}"
        found = max(faces, key=lambda f: f.area).quality.inter_ocular_px
        assert found == pytest.approx(params.target_inter_ocular_px, rel=0.12)
        measured.append(found)
    assert min(measured) >= 24 * 0.88 and max(measured) <= 40 * 1.12


def test_upscale_keeps_the_size_and_small_faces_are_not_enlarged():
    image = np.random.default_rng(0).integers(0, 255, (250, 250, 3), dtype=np.uint8)
    params = draw_params(CctvProfile(), seed=0, image_key="x")
    up, applied = degrade_image(image, inter_ocular_px=42, params=params, upscale=True)
    assert up.shape == image.shape and applied["scale"] < 1
    same, applied = degrade_image(image, inter_ocular_px=10, params=params)
    assert same.shape == image.shape and applied["scale"] == 1.0
    # No face measured on the clean image: the eye distance is estimated from the image size.
    _, applied = degrade_image(image, inter_ocular_px=None, params=params)
    assert applied["source_inter_ocular_estimated"] and applied["source_inter_ocular_px"] == pytest.approx(42.5)
