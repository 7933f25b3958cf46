"""Alert decisions over a track's embeddings (recognition.ml.decision), on real vectors and a real matcher."""

import numpy as np
import pytest

from recognition.ml.decision import (
    AgreementDecision,
    FrameDecision,
    MarginDecision,
    TemplateDecision,
    decision_from_spec,
    decision_spec,
    registered_decisions,
)
from recognition.ml.matcher import WatchlistMatcher


class _Track:
    def __init__(self):
        self.decision_state = None


def _unit(vector):
    vector = np.asarray(vector, np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def matcher():
    rng = np.random.default_rng(0)
    references = np.stack([_unit(rng.normal(size=512)) for _ in range(3)])
    return WatchlistMatcher(references=references, subject_ids=["a", "b", "c"])


def _noisy(matcher, subject_index, similarity, seed):
    """A unit vector whose cosine with reference ``subject_index`` is ``similarity``."""
    reference = matcher._references[matcher._order.tolist().index(subject_index)]
    noise = np.random.default_rng(seed).normal(size=reference.shape)
    noise -= (noise @ reference) * reference
    return _unit(similarity * reference + np.sqrt(1 - similarity**2) * _unit(noise))


def _feed(decision, matcher, vectors, qualities=None):
    track, out = _Track(), []
    for i, vector in enumerate(vectors):
        found = matcher.top_k(vector[None], decision.top_k)
        out.append(decision.evidence([track], vector[None], [1.0 if qualities is None else qualities[i]], found, matcher)[0])
    return out


def test_frame_decision_is_each_frames_best_match(matcher):
    vectors = [_noisy(matcher, 0, s, seed) for seed, s in enumerate((0.3, 0.6, 0.4))]
    evidence = _feed(FrameDecision(), matcher, vectors)
    assert [e.subject_id for e in evidence] == ["a", "a", "a"]
    assert [round(e.score, 3) for e in evidence] == [round(float(v @ matcher._references[matcher._order.tolist().index(0)]), 3)
                                                       for v in vectors]


def test_template_averages_frames_so_one_outlier_frame_does_not_decide(matcher):
    # One frame happens to look like "b"; four others of the same face are "a".
    vectors = [_noisy(matcher, 1, 0.55, 1)] + [_noisy(matcher, 0, 0.35, seed) for seed in range(2, 6)]
    frame = _feed(FrameDecision(), matcher, vectors)
    template = _feed(TemplateDecision(keep=5), matcher, vectors)
    assert frame[0].subject_id == "b" and frame[0].score == pytest.approx(0.55, abs=1e-3)
    assert template[0] == frame[0]  # one frame: the template is that frame
    assert template[-1].subject_id == "a" and template[-1].score > max(e.score for e in frame[1:])


def test_template_keeps_the_best_frames_by_quality_and_waits_for_min_frames(matcher):
    good = _noisy(matcher, 0, 0.7, 1)
    poor = _noisy(matcher, 2, 0.6, 2)
    keep_one = _feed(TemplateDecision(keep=1), matcher, [poor, good, poor], qualities=[0.2, 0.9, 0.3])
    assert [e.subject_id for e in keep_one] == ["c", "a", "a"]
    waiting = _feed(TemplateDecision(min_frames=2), matcher, [good, good])
    assert waiting[0] is None and waiting[1].subject_id == "a"


def test_agreement_needs_two_frames_on_the_same_subject(matcher):
    vectors = [_noisy(matcher, 1, 0.6, 1), _noisy(matcher, 0, 0.5, 2), _noisy(matcher, 0, 0.45, 3)]
    evidence = _feed(AgreementDecision(frames=2), matcher, vectors)
    assert evidence[0] is None  # a single frame never decides
    assert evidence[2].subject_id == "a" and evidence[2].score == pytest.approx(0.45, abs=1e-3)


def test_margin_ignores_a_frame_whose_best_candidate_barely_leads(matcher):
    between = _unit(_noisy(matcher, 0, 0.5, 1) + _noisy(matcher, 1, 0.5, 2))
    clear = _noisy(matcher, 0, 0.6, 3)
    evidence = _feed(MarginDecision(margin=0.05), matcher, [between, clear])
    assert evidence[0] is None and evidence[1].subject_id == "a"


@pytest.mark.parametrize("spec", ["frame", "template:keep=3,min_frames=2", "agreement:frames=3", "margin:margin=0.04"])
def test_specs_round_trip(spec):
    assert decision_spec(decision_from_spec(spec)) == spec


@pytest.mark.parametrize("spec, message", [
    ("nope", "unknown alert decision 'nope'"), ("template:keep", "is not name=value"),
    ("template:keep=x", "must be a number"), ("template:colour=1", "unexpected keyword"),
    ("template:keep=0", "at least 1"),
])
def test_bad_specs_are_refused_with_the_reason(spec, message):
    with pytest.raises(ValueError, match=message):
        decision_from_spec(spec)


def test_every_registered_decision_is_buildable_by_name():
    assert {"frame", "template", "agreement", "margin"} <= set(registered_decisions())
    for name in registered_decisions():
        assert decision_from_spec(name).name == name
