"""Open-set identification split of an ``identity -> images`` set into gallery, mated and non-mated probes.

The rule (docs/evaluation.md has the reasoning):

1. Identities with more than N images ("repeat" identities, N = references per subject) can give
   mated probes; the others ("single" identities) can only be enrolled or be passers-by.
2. A seeded random ``holdout_fraction`` of the repeat identities is held out of the gallery, at most
   as many as leaves room for ``gallery_size`` identities: every image of a held-out identity is a
   non-mated probe.
3. The gallery is filled with the remaining repeat identities first, then single identities, in a
   seeded random order, up to ``gallery_size``.
4. Each enrolled identity gets N reference images (seeded random, or ranked by a caller's key such
   as face quality); its other images are mated probes.
5. Every image of every identity not in the gallery is a non-mated probe.

Each random stage draws from its own generator derived from the seed, so changing one option (for
example ``limit_nonmated``) does not reshuffle the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_IDENTITIES, _REFERENCES, _CAP, _NONMATED_LIMIT = 1, 2, 3, 4


@dataclass(frozen=True)
class Probe:
    item: str  # the image's name (e.g. "<identity>/<file>")
    identity: str


@dataclass(frozen=True)
class IdentitySplit:
    gallery: tuple[str, ...]  # enrolled identities, in enrolment order
    held_out: tuple[str, ...]  # repeat identities kept out on purpose (their images are non-mated probes)
    left_out: tuple[str, ...]  # every identity not in the gallery (held_out included)


@dataclass(frozen=True)
class Split:
    identities: IdentitySplit
    references: dict[str, tuple[str, ...]]  # identity -> reference items
    mated: tuple[Probe, ...]
    nonmated: tuple[Probe, ...]
    references_per_subject: int

    @property
    def gallery_size(self) -> int:
        return len(self.references)

    def summary(self) -> dict:
        return {
            "gallery_identities": self.gallery_size,
            "gallery_images": sum(len(r) for r in self.references.values()),
            "gallery_identities_with_mated_probes": len({p.identity for p in self.mated}),
            "held_out_identities": len(self.identities.held_out),
            "left_out_identities": len(self.identities.left_out),
            "mated_probes": len(self.mated),
            "nonmated_probes": len(self.nonmated),
            "nonmated_identities": len({p.identity for p in self.nonmated}),
        }


def _rng(seed: int, stage: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), stage])


def _shuffled(items: Sequence, rng: np.random.Generator) -> list:
    return [items[i] for i in rng.permutation(len(items))]


def split_identities(
    counts: Mapping[str, int], *, gallery_size: int, references_per_subject: int = 1, seed: int = 0,
    holdout_fraction: float = 0.5,
) -> IdentitySplit:
    """Steps 1-3 of the rule: which identities are enrolled and which are passers-by."""
    if references_per_subject < 1:
        raise ValueError("references_per_subject must be at least 1")
    if not 0.0 <= holdout_fraction <= 1.0:
        raise ValueError("holdout_fraction must be between 0 and 1")
    identities = sorted(counts)
    if gallery_size < 1:
        raise ValueError("gallery_size must be at least 1")
    if gallery_size >= len(identities):
        raise ValueError(
            f"gallery_size {gallery_size} leaves no identity out of the gallery ({len(identities)} identities): "
            "there would be no non-mated probes")
    rng = _rng(seed, _IDENTITIES)
    repeat = _shuffled([i for i in identities if counts[i] > references_per_subject], rng)
    single = _shuffled([i for i in identities if counts[i] <= references_per_subject], rng)
    hold = min(int(round(holdout_fraction * len(repeat))), len(identities) - gallery_size)
    held_out, candidates = repeat[:hold], repeat[hold:] + single
    gallery = candidates[:gallery_size]
    left_out = held_out + candidates[gallery_size:]
    return IdentitySplit(tuple(gallery), tuple(held_out), tuple(sorted(left_out)))


def build_split(
    images: Mapping[str, Sequence[str]], identities: IdentitySplit, *, references_per_subject: int = 1,
    seed: int = 0, reference_rank: Callable[[str], float] | None = None,
    max_probes_per_identity: int | None = None, limit_nonmated: int | None = None,
) -> Split:
    """Steps 4-5: references and probes.

    ``reference_rank(item)`` (higher is better) picks each subject's references, ties broken by the
    seeded order; ``None`` keeps the seeded random choice. ``max_probes_per_identity`` caps the probes
    any one identity gives (LFW has one identity with 530 images); ``limit_nonmated`` subsamples the
    non-mated probes, for quick runs.
    """
    reference_rng, cap_rng = _rng(seed, _REFERENCES), _rng(seed, _CAP)
    references: dict[str, tuple[str, ...]] = {}
    mated: list[Probe] = []
    for identity in identities.gallery:
        ordered = _shuffled(sorted(images[identity]), reference_rng)
        if reference_rank is not None:
            ordered = sorted(ordered, key=lambda item: -reference_rank(item))  # stable: seeded order breaks ties
        references[identity] = tuple(ordered[:references_per_subject])
        rest = sorted(ordered[references_per_subject:])
        mated.extend(Probe(item, identity) for item in _capped(rest, max_probes_per_identity, cap_rng))
    nonmated = [Probe(item, identity) for identity in identities.left_out
                for item in _capped(sorted(images[identity]), max_probes_per_identity, cap_rng)]
    if limit_nonmated is not None and limit_nonmated < len(nonmated):
        chosen = np.sort(_rng(seed, _NONMATED_LIMIT).choice(len(nonmated), size=limit_nonmated, replace=False))
        nonmated = [nonmated[i] for i in chosen]
    return Split(identities, references, tuple(mated), tuple(nonmated), references_per_subject)


def _capped(items: list[str], cap: int | None, rng: np.random.Generator) -> list[str]:
    if cap is None or len(items) <= cap:
        return items
    return sorted(items[i] for i in rng.choice(len(items), size=cap, replace=False))


def split_dataset(
    images: Mapping[str, Sequence[str]], *, gallery_size: int, references_per_subject: int = 1, seed: int = 0,
    holdout_fraction: float = 0.5, reference_rank: Callable[[str], float] | None = None,
    max_probes_per_identity: int | None = None, limit_nonmated: int | None = None,
) -> Split:
    """The whole rule in one call (``images``: identity -> item names)."""
    identities = split_identities({i: len(v) for i, v in images.items()}, gallery_size=gallery_size,
                                  references_per_subject=references_per_subject, seed=seed,
                                  holdout_fraction=holdout_fraction)
    return build_split(images, identities, references_per_subject=references_per_subject, seed=seed,
                       reference_rank=reference_rank, max_probes_per_identity=max_probes_per_identity,
                       limit_nonmated=limit_nonmated)
