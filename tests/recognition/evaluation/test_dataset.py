"""Face sets: identity folders, and flat sets with a labels.csv whose every image is its own person."""

import cv2
import pytest

from recognition.evaluation.dataset import list_dataset, load_passerby_set


@pytest.fixture
def labelled_set(tmp_path, people):
    root = tmp_path / "utk-like"
    root.mkdir()
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(root / name), people[0])
    (root / "labels.csv").write_text("file,age,gender_code,gender,race_code,race\n"
                                     "a.jpg,1,0,male,1,Black\nb.jpg,45,1,female,,\nmissing.jpg,30,0,male,0,White\n")
    return root


def test_labelled_flat_set_gives_one_passer_by_per_image_with_groups(labelled_set):
    passers = load_passerby_set(labelled_set)
    assert [p.key for p in passers] == ["utk-like/a.jpg", "utk-like/b.jpg"]  # the unlisted file is left out
    assert passers[0].groups == {"race": "Black", "sex": "male", "age_band": "0-2", "officer_age_band": "under_18"}
    assert passers[1].groups == {"race": "unknown", "sex": "female", "age_band": "40-59",  # no race label
                                 "officer_age_band": "35_49"}
    assert not any(p.mated for p in passers) and passers[0].identity != passers[1].identity
    assert all(p.file.relative_path == p.key and p.file.path.is_file() for p in passers)


def test_identity_folders_keep_their_identity_under_the_set_name(tiny_dataset):
    passers = load_passerby_set(tiny_dataset)
    assert len(passers) == sum(len(files) for files in list_dataset(tiny_dataset).values())
    first = passers[0]
    assert first.key == f"{tiny_dataset.name}/person00/person00_0001.jpg" and first.identity == f"{tiny_dataset.name}:person00"
    assert first.groups is None
