"""Exact cosine search of probe embeddings against a watchlist's reference embeddings."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .embedder import l2_normalise


@dataclass(frozen=True)
class Match:
    subject_id: Hashable
    score: float  # cosine similarity, -1..1
    reference_index: int  # row of the reference matrix that gave the score


class WatchlistMatcher:
    """Several references per subject are allowed; a subject scores its best reference.

    ``device="cuda"`` computes the similarity matrix with torch on the GPU (lazy import); the default
    numpy path is microseconds for a 2,500-subject watchlist.
    """

    def __init__(self, *, references: np.ndarray, subject_ids: Sequence[Hashable], device: str = "cpu") -> None:
        references = np.asarray(references, dtype=np.float32)
        if references.size == 0 and references.ndim != 2:
            references = references.reshape(0, 0)  # empty watchlist given as []: any probe size is fine
        if references.ndim != 2:
            raise ValueError(f"references must be a (R, D) matrix, got shape {references.shape}")
        if len(subject_ids) != len(references):
            raise ValueError(f"{len(references)} references but {len(subject_ids)} subject ids")
        self.dimension = references.shape[1]
        self.device = device
        codes_by_subject: dict[Hashable, int] = {}
        codes = np.array([codes_by_subject.setdefault(s, len(codes_by_subject)) for s in subject_ids], dtype=np.int64)
        self.subjects = list(codes_by_subject)
        # Columns grouped by subject so one maximum.reduceat gives each subject's best score.
        self._order = np.argsort(codes, kind="stable")
        self._group_starts = np.searchsorted(codes[self._order], np.arange(len(self.subjects)))
        self._references = l2_normalise(references[self._order]) if len(references) else references
        self._torch_references: Any = None  # a torch tensor once used on CUDA (torch is optional)

    def __len__(self) -> int:
        return len(self._references)

    @property
    def subject_count(self) -> int:
        return len(self.subjects)

    def similarities(self, probes: np.ndarray) -> np.ndarray:
        """(M, R) cosine similarities, columns in the caller's original reference order."""
        probes = self._probes(probes)
        if not len(self._references):
            return np.zeros((len(probes), 0), np.float32)
        scores = self._scores(probes)
        unsorted = np.empty_like(scores)
        unsorted[:, self._order] = scores
        return unsorted

    def top_k(self, probes: np.ndarray, k: int = 1) -> list[list[Match]]:
        """Best ``k`` subjects per probe, highest score first."""
        probes = self._probes(probes)
        if not len(self._references) or k < 1:
            return [[] for _ in range(len(probes))]
        scores = self._scores(probes)
        per_subject = np.maximum.reduceat(scores, self._group_starts, axis=1)
        k = min(k, self.subject_count)
        candidates = np.argpartition(-per_subject, k - 1, axis=1)[:, :k]
        results = []
        for row, subject_codes in enumerate(candidates):
            subject_codes = subject_codes[np.argsort(-per_subject[row, subject_codes], kind="stable")]
            matches = []
            for code in subject_codes:
                start = self._group_starts[code]
                stop = self._group_starts[code + 1] if code + 1 < self.subject_count else len(self._references)
                best = start + int(np.argmax(scores[row, start:stop]))
                matches.append(Match(self.subjects[code], float(scores[row, best]), int(self._order[best])))
            results.append(matches)
        return results

    def _probes(self, probes: np.ndarray) -> np.ndarray:
        probes = np.asarray(probes, dtype=np.float32)
        if probes.size == 0:
            return np.zeros((0, self.dimension), np.float32)
        if probes.ndim == 1:
            probes = probes[None]
        if probes.ndim != 2 or (self.dimension and probes.shape[1] != self.dimension):
            raise ValueError(f"probes must be (M, {self.dimension}), got shape {probes.shape}")
        return l2_normalise(probes)

    def _scores(self, probes: np.ndarray) -> np.ndarray:
        if not self.device.startswith("cuda"):
            return probes @ self._references.T
        import torch

        if self._torch_references is None:
            self._torch_references = torch.from_numpy(self._references).to(self.device)
        return (torch.from_numpy(probes).to(self.device) @ self._torch_references.T).cpu().numpy()
