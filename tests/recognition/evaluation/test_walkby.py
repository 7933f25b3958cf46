"""Walk-by scenes: the pasted faces are where and how large the scene says, as the real detector sees them."""

import numpy as np
import pytest

from recognition.evaluation.walkby import (
    BACKGROUNDS,
    SourceFace,
    SyntheticBackground,
    WalkByConfig,
    WalkByScene,
    create_background,
)
from recognition.ml.tracker import box_iou


@pytest.fixture(scope="module")
def sources(people, engine):
    faces = []
    for index, image in enumerate(people[:4]):
        found = engine.analyse([image], embed=False)[0]
        centre = np.array(image.shape[1::-1]) / 2
        face = min(found, key=lambda f: float(np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre)))
        faces.append(SourceFace(f"person{index}", image, face.box, face.landmarks))
    return faces


def test_inter_ocular_grows_from_min_to_max_at_constant_walking_speed():
    config = WalkByConfig(fps=10, walk_seconds=3, inter_ocular=(10, 80))
    sizes = [config.inter_ocular_at(k) for k in range(config.frames)]
    assert config.frames == 30
    assert sizes[0] == pytest.approx(10) and sizes[-1] == pytest.approx(80)
    assert all(b > a for a, b in zip(sizes, sizes[1:], strict=False))
    # Distance falls linearly: 1/size is linear in time.
    inverse = np.diff(1 / np.array(sizes))
    assert np.allclose(inverse, inverse[0])


@pytest.mark.parametrize("frame", [0, 15, 29])
def test_detected_faces_land_where_and_as_large_as_placed(sources, photo_engine, frame):
    config = WalkByConfig(frame_size=(1280, 720), fps=10, walk_seconds=3, inter_ocular=(24, 64), lanes=4)
    scene = WalkByScene(sources, config, background=SyntheticBackground(), seed=1)
    image, placements = scene.render(frame)
    assert image.shape == (720, 1280, 3)
    found = photo_engine.detector_at((1280, 736)).detect([image])[0]
    overlap = box_iou(np.stack([p.box for p in placements]).astype(float), found.boxes.astype(float))
    errors = []
    for placement, row in zip(placements, overlap, strict=True):
        assert placement.inter_ocular == pytest.approx(config.inter_ocular_at(frame), rel=0.03)
        match = int(row.argmax())
        assert row[match] > 0.3, "every pasted face is detected where the scene says it is"
        landmarks = found.landmarks[match]
        assert np.linalg.norm(landmarks - placement.landmarks, axis=1).max() < 0.5 * placement.inter_ocular
        measured = float(np.linalg.norm(landmarks[1] - landmarks[0]))
        errors.append(measured / placement.inter_ocular - 1)
    # The detector's own landmarks differ a little between a photo and its small copy (more on a turned face,
    # whose eye distance it measures up to 35% off when the face is 24 px).
    assert max(abs(e) for e in errors) < 0.4 and abs(float(np.median(errors))) < 0.1


def test_scenes_are_deterministic_and_passers_by_are_apart(sources):
    config = WalkByConfig(frame_size=(1280, 720), fps=10, walk_seconds=2, lanes=4)
    first = WalkByScene(sources, config, background=SyntheticBackground(), seed=3).render(10)
    again = WalkByScene(sources, config, background=SyntheticBackground(), seed=3).render(10)
    other = WalkByScene(sources, config, background=SyntheticBackground(), seed=4).render(10)
    assert np.array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])
    boxes = np.stack([p.box for p in first[1]]).astype(float)
    overlap = box_iou(boxes, boxes)
    assert (overlap[~np.eye(len(boxes), dtype=bool)] == 0).all()


def test_too_many_passers_by_for_the_lanes_is_refused(sources):
    with pytest.raises(ValueError):
        WalkByScene(sources, WalkByConfig(lanes=2), background=SyntheticBackground())


def test_backgrounds_are_a_registry(tmp_path):
    assert {"video", "synthetic"} <= set(BACKGROUNDS)
    frame = create_background("synthetic", seed=0).frame(0, (320, 180))
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
    with pytest.raises(ValueError):
        create_background("nowhere")
    with pytest.raises(ValueError):
        create_background("video", path=tmp_path / "missing.mp4")


def test_the_whole_head_walks_past_and_the_street_shows_around_it():
    """The recogniser's crop holds forehead, hair and chin: a passer-by keeps them, and only what lies
    outside the head is the street (cutting closer cost the genuine scores; docs/evaluation.md)."""
    from recognition.evaluation.walkby import head_mask

    config = WalkByConfig()
    frontal = np.array([[80, 100], [120, 100], [100, 123], [84, 146], [116, 146]], np.float32)  # eyes 40 px apart
    mask = head_mask(200, frontal, config)
    assert mask[100 - 52, 100] > 0.95  # hair, 1.3 eye distances above the eyes
    assert mask[100 + 68, 100] > 0.95  # chin, 1.7 below
    assert mask[100, 100 + 70] < 0.05  # beside the head, 1.75 to the side: the street
    # A turned head shows its eyes closer together, not its chin nearer: its size comes from eyes to mouth.
    turned = frontal.copy()
    turned[:, 0] = 100 + (turned[:, 0] - 100) * 0.5
    assert head_mask(200, turned, config)[100 + 68, 100] > 0.95
