import numpy as np
import pytest
from insightface.utils import face_align

from recognition.ml import align_faces
from recognition.ml.align import ARCFACE_TEMPLATE_112, alignment_matrix, umeyama_similarity


@pytest.mark.filterwarnings("ignore::FutureWarning")  # insightface calls a deprecated skimage API
def test_matches_insightface_norm_crop(engine, photos):
    found = engine.detector.detect_one(photos["t1"])
    ours = align_faces(photos["t1"], found.landmarks)
    theirs = np.stack([face_align.norm_crop(photos["t1"], points) for points in found.landmarks])
    assert ours.shape == (6, 112, 112, 3) and ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - theirs).mean() < 0.05


def test_umeyama_recovers_a_known_similarity():
    angle, scale, shift = np.radians(20), 1.7, np.array([13.0, -4.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = np.random.default_rng(1).uniform(0, 100, (5, 2))
    target = source @ rotation.T + shift
    matrix = umeyama_similarity(source, target)
    np.testing.assert_allclose(matrix[:, :2], rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)


def test_template_points_map_to_themselves_and_scale_with_size():
    np.testing.assert_allclose(alignment_matrix(ARCFACE_TEMPLATE_112), [[1, 0, 0], [0, 1, 0]], atol=1e-9)
    np.testing.assert_allclose(alignment_matrix(ARCFACE_TEMPLATE_112, image_size=224)[:, :2], 2 * np.eye(2), atol=1e-9)


def test_no_faces_gives_an_empty_batch(photos):
    assert align_faces(photos["t1"], np.zeros((0, 5, 2), np.float32)).shape == (0, 112, 112, 3)
