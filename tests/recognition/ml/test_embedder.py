import cv2
import numpy as np
import pytest


def _embed_faces(engine, image, *, flip=False):
    faces = engine.analyse([image], embed=False)[0]
    return faces, engine.embedder.embed(np.stack([f.aligned_crop for f in faces]), flip=flip).vectors


def test_vectors_are_unit_512d_float32_and_carry_the_model_id(engine, analysed):
    batch = engine.embedder.embed(np.stack([f.aligned_crop for f in analysed["t1"]]))
    assert batch.vectors.shape == (6, 512) and batch.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch.vectors, axis=1), 1.0, atol=1e-5)
    assert batch.model_id == engine.pack.recogniser.model_id == analysed["t1"][0].model_id


def test_same_vectors_as_insightface_arcface(engine, analysed, insightface_arcface):
    crops = [f.aligned_crop for f in analysed["t1"]]
    theirs = insightface_arcface.get_feat(crops)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    ours = engine.embedder.embed(np.stack(crops)).vectors
    assert np.all(np.sum(ours * theirs, axis=1) > 0.9999)


def test_batched_equals_one_by_one(engine, analysed):
    crops = np.stack([f.aligned_crop for f in analysed["gdp"]])
    together = engine.embedder.embed(crops).vectors
    alone = np.concatenate([engine.embedder.embed(crop[None]).vectors for crop in crops])
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("change", ["mirrored", "half_size", "enlarged"])
@pytest.mark.parametrize("name", ["t1", "yaoming"])
def test_same_face_scores_high_against_a_changed_copy(engine, photos, analysed, name, change):
    altered = {
        "mirrored": lambda img: img[:, ::-1].copy(),
        "half_size": lambda img: cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
        "enlarged": lambda img: cv2.resize(img, None, fx=1.7, fy=1.7),
    }[change](photos[name])
    original = np.stack([f.embedding for f in analysed[name]])
    _, copies = _embed_faces(engine, altered)
    best = (original @ copies.T).max(axis=1)  # copy faces come in another order
    assert np.all(best > 0.6), best


def test_different_people_score_low(analysed):
    for name in ("t1", "gdp"):
        vectors = np.stack([f.embedding for f in analysed[name]])
        similarities = (vectors @ vectors.T)[np.triu_indices(len(vectors), 1)]
        assert similarities.max() < 0.4, name
        assert np.mean(similarities < 0.3) >= 0.9, name
    t1 = np.stack([f.embedding for f in analysed["t1"]])
    assert (t1 @ t1.T)[np.triu_indices(6, 1)].max() < 0.3


def test_different_people_in_a_team_photo_score_low(analysed):
    # 22 small faces (about 19 px between the eyes): 231 pairs of different people.
    vectors = np.stack([f.embedding for f in analysed["players"]])
    similarities = (vectors @ vectors.T)[np.triu_indices(len(vectors), 1)]
    assert similarities.mean() < 0.15
    assert np.mean(similarities < 0.3) >= 0.97
    assert similarities.max() < 0.45


def test_yao_ming_is_found_in_the_team_photo(analysed):
    probe = analysed["yaoming"][0].embedding
    scores = np.sort(np.stack([f.embedding for f in analysed["players"]]) @ probe)[::-1]
    assert scores[0] > 0.5
    assert scores[1] < 0.3


def test_prealigned_crop_can_be_embedded_directly(engine, photos, analysed):
    tom = photos["tom_hanks"]  # insightface's sample is already a 112x112 aligned crop
    vectors = engine.embedder.embed(np.stack([tom, tom[:, ::-1]])).vectors
    assert vectors[0] @ vectors[1] > 0.6
    others = np.stack([f.embedding for f in analysed["t1"]])
    assert np.all(others @ vectors[0] < 0.3)


def test_flip_averaging_makes_vectors_mirror_invariant(engine, photos):
    tom = photos["tom_hanks"]
    plain = engine.embedder.embed(np.stack([tom, tom[:, ::-1]]), flip=False).vectors
    flipped = engine.embedder.embed(np.stack([tom, tom[:, ::-1]]), flip=True).vectors
    assert flipped[0] @ flipped[1] > 0.9999
    assert flipped[0] @ flipped[1] > plain[0] @ plain[1]
    np.testing.assert_allclose(np.linalg.norm(flipped, axis=1), 1.0, atol=1e-5)


def test_empty_and_malformed_inputs(engine):
    assert engine.embedder.embed(np.zeros((0, 112, 112, 3), np.uint8)).vectors.shape == (0, 512)
    assert engine.embedder.embed([]).vectors.shape == (0, 512)
    with pytest.raises(ValueError, match="112, 112, 3"):
        engine.embedder.embed(np.zeros((2, 100, 100, 3), np.uint8))


def test_identities_in_shared_data_separate(engine, shared_data):
    root = shared_data / "faces" / "misc" / "deepface_tests"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    vectors, labels = [], []
    for person in sorted(p for p in root.iterdir() if p.is_dir())[:8]:
        for path in sorted(person.iterdir())[:3]:
            result = engine.embed_single_face(cv2.imread(str(path)))
            if result.face is not None:
                vectors.append(result.embedding)
                labels.append(person.name)
    vectors, labels = np.stack(vectors), np.array(labels)
    similarities = vectors @ vectors.T
    same = similarities[(labels[:, None] == labels[None]) & ~np.eye(len(labels), dtype=bool)]
    different = similarities[labels[:, None] != labels[None]]
    assert same.mean() > 0.5 and different.mean() < 0.15
    assert np.median(same) > np.percentile(different, 99)
