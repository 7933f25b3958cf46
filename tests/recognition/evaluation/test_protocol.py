import pytest

from recognition.evaluation.protocol import split_dataset, split_identities


def _images(counts: dict[str, int]) -> dict[str, list[str]]:
    return {identity: [f"{identity}/{identity}_{i:04d}.jpg" for i in range(1, n + 1)] for identity, n in counts.items()}


# 40 identities with 1 image, 20 with 2..6 images, one with 30.
COUNTS = {f"single{i:02d}": 1 for i in range(40)} | {f"repeat{i:02d}": 2 + i % 5 for i in range(20)} | {"many": 30}
IMAGES = _images(COUNTS)


@pytest.mark.parametrize("references", [1, 2])
def test_gallery_and_nonmated_identities_are_disjoint_and_everything_is_used_once(references):
    split = split_dataset(IMAGES, gallery_size=45, references_per_subject=references, seed=7)
    gallery = set(split.references)
    nonmated_ids = {p.identity for p in split.nonmated}
    assert len(gallery) == 45 and not gallery & nonmated_ids
    assert nonmated_ids == set(split.identities.left_out) == set(COUNTS) - gallery
    used = [i for refs in split.references.values() for i in refs] + [p.item for p in split.mated + split.nonmated]
    assert sorted(used) == sorted(i for items in IMAGES.values() for i in items)  # each image exactly once


def test_mated_probes_exclude_the_references_and_come_from_enrolled_identities():
    split = split_dataset(IMAGES, gallery_size=45, references_per_subject=2, seed=1)
    references = {i for refs in split.references.values() for i in refs}
    assert all(p.item not in references and p.identity in split.references for p in split.mated)
    for identity, refs in split.references.items():
        assert len(refs) == min(2, COUNTS[identity])
        assert all(r.startswith(identity + "/") for r in refs)
    # With N=2 only identities with more than 2 images give mated probes.
    assert all(COUNTS[p.identity] > 2 for p in split.mated)


def test_repeat_identities_are_held_out_and_the_gallery_is_filled():
    identities = split_identities(COUNTS, gallery_size=45, seed=0, holdout_fraction=0.5)
    repeat = [i for i, n in COUNTS.items() if n > 1]
    assert len(identities.held_out) == min(round(0.5 * len(repeat)), len(COUNTS) - 45) == 10
    assert set(identities.held_out) <= set(repeat)
    assert len(identities.gallery) == 45
    # Enrolled repeat identities come first, then single-image ones.
    kinds = [COUNTS[i] > 1 for i in identities.gallery]
    assert kinds == sorted(kinds, reverse=True)


def test_deterministic_with_a_seed_and_different_across_seeds():
    a = split_dataset(IMAGES, gallery_size=45, seed=3)
    b = split_dataset(IMAGES, gallery_size=45, seed=3)
    c = split_dataset(IMAGES, gallery_size=45, seed=4)
    assert a == b
    assert a.references != c.references


def test_limits_and_caps():
    split = split_dataset(IMAGES, gallery_size=30, seed=0, max_probes_per_identity=3, limit_nonmated=10)
    assert len(split.nonmated) == 10
    per_identity = {}
    for p in split.mated:
        per_identity[p.identity] = per_identity.get(p.identity, 0) + 1
    assert max(per_identity.values()) <= 3
    # Limiting non-mated probes does not change the gallery or the mated probes.
    full = split_dataset(IMAGES, gallery_size=30, seed=0, max_probes_per_identity=3)
    assert full.references == split.references and full.mated == split.mated
    assert set(split.nonmated) <= set(full.nonmated)


def test_reference_rank_picks_the_best_images():
    rank = {item: (1.0 if item.endswith("_0003.jpg") else 0.0) for items in IMAGES.values() for item in items}
    split = split_dataset(IMAGES, gallery_size=45, seed=0, reference_rank=rank.get)
    for identity, refs in split.references.items():
        if COUNTS[identity] >= 3:
            assert refs == (f"{identity}/{identity}_0003.jpg",)


def test_refuses_a_gallery_without_passers_by():
    with pytest.raises(ValueError, match="no non-mated"):
        split_dataset(IMAGES, gallery_size=len(COUNTS))
