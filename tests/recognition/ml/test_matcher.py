import numpy as np
import pytest

from recognition.ml import Match, WatchlistMatcher


def _unit(rows):
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _brute_force(probes, references, subject_ids, k):
    scores = _unit(probes) @ _unit(references).T
    results = []
    for row in scores:
        best = {}
        for index, (subject, score) in enumerate(zip(subject_ids, row, strict=True)):
            if subject not in best or score > best[subject][0]:
                best[subject] = (score, index)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[:k]
        results.append([(subject, score, index) for subject, (score, index) in ranked])
    return results


def test_top_k_equals_brute_force_with_several_references_per_subject():
    rng = np.random.default_rng(7)
    references = rng.normal(size=(300, 64)).astype(np.float32)
    subject_ids = [f"subject-{i}" for i in rng.integers(0, 90, size=300)]  # 1..n references per subject, shuffled
    probes = np.concatenate([references[[3, 50, 299]] + 0.1 * rng.normal(size=(3, 64)), rng.normal(size=(5, 64))])
    matcher = WatchlistMatcher(references=references, subject_ids=subject_ids)
    found = matcher.top_k(probes, k=5)
    expected = _brute_force(probes, references, subject_ids, 5)
    for ours, theirs in zip(found, expected, strict=True):
        assert [m.subject_id for m in ours] == [t[0] for t in theirs]
        assert [m.reference_index for m in ours] == [t[2] for t in theirs]
        np.testing.assert_allclose([m.score for m in ours], [t[1] for t in theirs], atol=1e-5)
    assert found[0][0].subject_id == subject_ids[3] and found[0][0].reference_index == 3


def test_a_subject_appears_once_with_its_best_reference():
    references = np.array([[1, 0], [0.8, 0.6], [0, 1]], np.float32)
    matcher = WatchlistMatcher(references=references, subject_ids=["a", "a", "b"])
    assert matcher.subject_count == 2 and len(matcher) == 3
    matches = matcher.top_k(np.array([0.6, 0.8], np.float32), k=5)[0]
    assert [m.subject_id for m in matches] == ["a", "b"]
    assert matches[0] == Match("a", pytest.approx(0.96), 1)


@pytest.mark.parametrize("references", [np.zeros((0, 512), np.float32), []])
def test_empty_watchlist_matches_nothing(references):
    matcher = WatchlistMatcher(references=references, subject_ids=[])
    probes = np.random.default_rng(0).normal(size=(3, 512))
    assert matcher.top_k(probes, k=3) == [[], [], []]
    assert matcher.similarities(probes).shape == (3, 0)


def test_no_probes_and_bad_shapes():
    matcher = WatchlistMatcher(references=np.eye(4, dtype=np.float32), subject_ids=[1, 2, 3, 4])
    assert matcher.top_k(np.zeros((0, 4), np.float32)) == []
    with pytest.raises(ValueError, match="probes must be"):
        matcher.top_k(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="subject ids"):
        WatchlistMatcher(references=np.eye(4, dtype=np.float32), subject_ids=[1, 2])


def test_similarities_keep_the_callers_reference_order():
    rng = np.random.default_rng(3)
    references = rng.normal(size=(20, 8)).astype(np.float32)
    subject_ids = rng.integers(0, 5, size=20).tolist()
    probes = rng.normal(size=(4, 8)).astype(np.float32)
    np.testing.assert_allclose(
        WatchlistMatcher(references=references, subject_ids=subject_ids).similarities(probes),
        _unit(probes) @ _unit(references).T, atol=1e-5,
    )


def test_real_faces_find_yao_ming_in_a_team_watchlist(analysed):
    team = analysed["players"]
    matcher = WatchlistMatcher(references=np.stack([f.embedding for f in team]),
                               subject_ids=[f"player-{i}" for i in range(len(team))])
    best = matcher.top_k(analysed["yaoming"][0].embedding, k=2)[0]
    assert best[0].score > 0.5 > best[1].score
