"""When a track alerts: the rule that turns a track's embeddings into the evidence the threshold is applied to.

A passer-by gives a track several embeddings. Alerting on the first single frame that crosses the
threshold makes the false alert rate per passer-by grow with the number of frames embedded, so the rule
is a plugin point: a :class:`TrackDecision` subclass per rule, in a registry (``register_decision``,
``decision_from_name``). Each rule keeps its own state on the track (``Track.decision_state``, dropped with
the track) and returns, after each new embedding, the track's current :class:`Evidence`: a subject and a
score. The pipeline alerts the first time that score reaches the threshold, so a rule never needs to know
the threshold, and one recorded run serves every threshold (recognition/evaluation/live.py).

Measured per passer-by with ``manage.py evaluate_live`` (docs/evaluation.md, "Deciding over the track").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .matcher import Match, WatchlistMatcher


@dataclass(frozen=True)
class Evidence:
    subject_id: Hashable
    score: float  # compared with the threshold; a similarity on the matcher's scale


@dataclass
class _Frames:
    """A track's embeddings so far: (quality score, unit vector, this frame's top matches)."""

    qualities: list[float] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    matches: list[list[Match]] = field(default_factory=list)


class TrackDecision(ABC):
    """One alert rule. Stateless itself: per-track state lives in ``track.decision_state``."""

    name: ClassVar[str]
    top_k: ClassVar[int] = 1  # how many candidates per frame the rule needs from the matcher

    def evidence(self, tracks: Sequence, vectors: np.ndarray, qualities: Sequence[float],
                 matches: Sequence[list[Match]], matcher: WatchlistMatcher) -> list[Evidence | None]:
        """Record one new embedding per track (with its frame's top ``top_k`` matches) and return each
        track's evidence after it; None where there is none yet."""
        for track, vector, quality, found in zip(tracks, vectors, qualities, matches, strict=True):
            if track.decision_state is None:
                track.decision_state = _Frames()
            state = track.decision_state
            state.qualities.append(float(quality))
            state.vectors.append(np.asarray(vector, np.float32))
            state.matches.append(list(found))
        return self.decide([t.decision_state for t in tracks], matcher)

    @abstractmethod
    def decide(self, states: Sequence[_Frames], matcher: WatchlistMatcher) -> list[Evidence | None]:
        """The evidence of each track from all its embeddings so far."""

    def describe(self) -> dict:
        return {"name": self.name}


_REGISTRY: dict[str, type[TrackDecision]] = {}


def register_decision(cls: type[TrackDecision]) -> type[TrackDecision]:
    _REGISTRY[cls.name] = cls
    return cls


def registered_decisions() -> list[str]:
    return sorted(_REGISTRY)


def decision_from_name(name: str, **options) -> TrackDecision:
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown alert decision {name!r}; known: {', '.join(registered_decisions())}") from None
    return cls(**options)


@register_decision
class FrameDecision(TrackDecision):
    """The best single frame: alert on the first embedding whose best match reaches the threshold."""

    name = "frame"

    def decide(self, states, matcher):
        return [Evidence(s.matches[-1][0].subject_id, s.matches[-1][0].score) if s.matches[-1] else None
                for s in states]


@register_decision
class TemplateDecision(TrackDecision):
    """A quality-weighted mean of the track's best ``keep`` embeddings, searched as one probe.

    Averaging several frames of one face cancels much of what a single frame gets wrong (blur, JPEG,
    a half-closed eye); the best frames by quality carry most of the identity. With ``min_frames`` the
    track must have that many embeddings before it may alert.
    """

    name = "template"

    def __init__(self, keep: int = 5, min_frames: int = 1) -> None:
        if keep < 1 or min_frames < 1:
            raise ValueError("keep and min_frames must be at least 1")
        self.keep, self.min_frames = keep, min_frames

    def describe(self) -> dict:
        return {"name": self.name, "keep": self.keep, "min_frames": self.min_frames}

    def template(self, state: _Frames) -> np.ndarray:
        order = np.argsort(-np.asarray(state.qualities), kind="stable")[: self.keep]
        weights = np.maximum(np.asarray(state.qualities)[order], 1e-3)
        mean = (np.stack([state.vectors[i] for i in order]) * weights[:, None]).sum(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    def decide(self, states, matcher):
        ready = [i for i, s in enumerate(states) if len(s.vectors) >= self.min_frames]
        out: list[Evidence | None] = [None] * len(states)
        if ready:
            found = matcher.top_k(np.stack([self.template(states[i]) for i in ready]), 1)
            for i, best in zip(ready, found, strict=True):
                out[i] = Evidence(best[0].subject_id, best[0].score) if best else None
        return out


@register_decision
class AgreementDecision(TrackDecision):
    """Several frames agree: a subject's evidence is its ``frames``-th best score over the track's frames
    (each frame offers its top ``top_k`` candidates), so ``frames`` embeddings must reach the threshold on
    the same person."""

    name = "agreement"
    top_k = 3

    def __init__(self, frames: int = 2) -> None:
        if frames < 1:
            raise ValueError("frames must be at least 1")
        self.frames = frames

    def describe(self) -> dict:
        return {"name": self.name, "frames": self.frames}

    def decide(self, states, matcher):
        out = []
        for state in states:
            scores: dict[Hashable, list[float]] = {}
            for found in state.matches:
                for match in found:
                    scores.setdefault(match.subject_id, []).append(match.score)
            ranked = [(sorted(v, reverse=True)[self.frames - 1], s) for s, v in scores.items() if len(v) >= self.frames]
            best = max(ranked, key=lambda r: r[0]) if ranked else None
            out.append(Evidence(best[1], best[0]) if best else None)
        return out


@register_decision
class MarginDecision(TrackDecision):
    """The best frame, counted only when its best candidate leads the runner-up by ``margin``."""

    name = "margin"
    top_k = 2

    def __init__(self, margin: float = 0.05) -> None:
        self.margin = margin

    def describe(self) -> dict:
        return {"name": self.name, "margin": self.margin}

    def decide(self, states, matcher):
        out: list[Evidence | None] = []
        for state in states:
            found = state.matches[-1]
            if not found or (len(found) > 1 and found[0].score - found[1].score < self.margin):
                out.append(None)
            else:
                out.append(Evidence(found[0].subject_id, found[0].score))
        return out


def decision_from_spec(spec: str) -> TrackDecision:
    """``name`` or ``name:option=value,...`` (e.g. ``template:keep=5,min_frames=2``): settings and commands."""
    name, _, rest = spec.strip().partition(":")
    options: dict[str, float | int] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ValueError(f"alert decision option {part!r} is not name=value (in {spec!r})")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"alert decision option {key.strip()} must be a number, got {value!r}") from None
        options[key.strip()] = int(number) if number.is_integer() and "." not in value else number
    try:
        return decision_from_name(name.strip(), **options)
    except TypeError as exc:
        raise ValueError(f"alert decision {spec!r}: {exc}") from None


def decision_spec(decision: TrackDecision) -> str:
    """The inverse of :func:`decision_from_spec`."""
    options = {k: v for k, v in decision.describe().items() if k != "name"}
    return decision.name + (":" + ",".join(f"{k}={v}" for k, v in options.items()) if options else "")
