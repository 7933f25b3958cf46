"""Open-set identification metrics from score arrays (pure numpy, no models).

Per probe the search returns its best gallery candidate and that candidate's score. A probe with no
usable face (nothing detected, or refused by a probe quality policy) has score ``-inf``: a mated
probe then counts as a miss, a non-mated one can never raise a false alert.

* rank-1: share of mated probes whose best candidate is the right identity, whatever the score.
* TPIR(t): share of mated probes whose best candidate is right AND scores >= t.
* FPIR(t): share of non-mated probes whose best candidate scores >= t.
* FNIR(t) = 1 - TPIR(t).
* threshold at FPIR target f: the smallest threshold whose FPIR is <= f, i.e. just above the
  (floor(f * n) + 1)-th highest non-mated score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_FIXED_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(7))  # 0.30 .. 0.60
DEFAULT_FPIR_TARGETS = (1e-2, 1e-3)


def _scores(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    return np.where(np.isnan(array), -np.inf, array)


def rank1(mated_correct) -> float:
    correct = np.asarray(mated_correct, dtype=bool).reshape(-1)
    return float(correct.mean()) if correct.size else math.nan


def tpir(mated_scores, mated_correct, threshold: float) -> float:
    scores, correct = _scores(mated_scores), np.asarray(mated_correct, dtype=bool).reshape(-1)
    if scores.shape != correct.shape:
        raise ValueError("mated_scores and mated_correct must have the same length")
    return float((correct & (scores >= threshold)).mean()) if scores.size else math.nan


def fpir(nonmated_scores, threshold: float) -> float:
    scores = _scores(nonmated_scores)
    return float((scores >= threshold).mean()) if scores.size else math.nan


def threshold_at_fpir(nonmated_scores, target: float) -> float:
    """Smallest threshold t with FPIR(t) <= target (``-inf`` when every probe may alert)."""
    scores = np.sort(_scores(nonmated_scores))[::-1]
    if not scores.size:
        raise ValueError("no non-mated scores")
    allowed = int(math.floor(target * len(scores) + 1e-9))  # false alerts the target tolerates
    if allowed >= len(scores) or scores[allowed] == -np.inf:
        return -math.inf
    return float(np.nextafter(scores[allowed], np.inf))


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    tpir: float
    fpir: float
    false_alerts: int  # non-mated probes at or above the threshold
    nonmated: int

    def as_dict(self) -> dict:
        return {"threshold": self.threshold, "tpir": self.tpir, "fpir": self.fpir,
                "fnir": 1.0 - self.tpir, "false_alerts": self.false_alerts, "nonmated_probes": self.nonmated}


def operating_point(mated_scores, mated_correct, nonmated_scores, threshold: float) -> OperatingPoint:
    nonmated = _scores(nonmated_scores)
    return OperatingPoint(float(threshold), tpir(mated_scores, mated_correct, threshold),
                          fpir(nonmated, threshold), int((nonmated >= threshold).sum()), len(nonmated))


def tpir_at_fpir(mated_scores, mated_correct, nonmated_scores, target: float) -> OperatingPoint:
    return operating_point(mated_scores, mated_correct, nonmated_scores, threshold_at_fpir(nonmated_scores, target))


@dataclass(frozen=True)
class DetCurve:
    thresholds: np.ndarray  # decreasing
    fpir: np.ndarray  # non-decreasing as the threshold falls
    fnir: np.ndarray  # non-increasing as the threshold falls


def det_curve(mated_scores, mated_correct, nonmated_scores) -> DetCurve:
    """FNIR and FPIR at every distinct finite score (each a threshold), highest threshold first."""
    mated, correct, nonmated = _scores(mated_scores), np.asarray(mated_correct, bool).reshape(-1), _scores(nonmated_scores)
    candidates = np.concatenate([mated[correct], nonmated])
    thresholds = np.unique(candidates[np.isfinite(candidates)])[::-1]
    # Counts of scores >= t for each t, by binary search on sorted arrays.
    hits_sorted = np.sort(mated[correct])
    nonmated_sorted = np.sort(nonmated)
    hits = len(hits_sorted) - np.searchsorted(hits_sorted, thresholds, side="left")
    alerts = len(nonmated_sorted) - np.searchsorted(nonmated_sorted, thresholds, side="left")
    fnir = 1.0 - hits / max(len(mated), 1)
    fpir_values = alerts / max(len(nonmated), 1)
    return DetCurve(thresholds, fpir_values.astype(np.float64), fnir.astype(np.float64))


def summarise(mated_scores, mated_correct, nonmated_scores, *, fixed_thresholds: Sequence[float] = DEFAULT_FIXED_THRESHOLDS,
              fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS) -> dict:
    """rank-1, TPIR at each FPIR target (with its threshold) and TPIR/FPIR at fixed thresholds."""
    return {
        "rank1": rank1(mated_correct),
        "tpir_at_fpir": {
            f"{target:.0e}".replace("e-0", "e-"): tpir_at_fpir(mated_scores, mated_correct, nonmated_scores, target).as_dict()
            for target in fpir_targets
        },
        "at_threshold": {
            f"{t:.2f}": operating_point(mated_scores, mated_correct, nonmated_scores, t).as_dict() for t in fixed_thresholds
        },
    }


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (n up to millions)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    i = np.arange(k + 1)
    log_choose = math.lgamma(n + 1) - np.array([math.lgamma(j + 1) + math.lgamma(n - j + 1) for j in i])
    return float(np.exp(log_choose + i * math.log(p) + (n - i) * math.log1p(-p)).sum())


def _upper(k: int, n: int, alpha: float) -> float:
    """Largest p with P(X <= k) >= alpha."""
    if k >= n:
        return 1.0
    low, high = k / n, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if _binomial_cdf(k, n, middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def proportion_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval for a share: exact, never narrower than the data allows
    (0 of n gives (0, 1 - (alpha/2)^(1/n)), about 3.7/n, not 0)."""
    if trials <= 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    alpha = (1.0 - confidence) / 2
    high = _upper(successes, trials, alpha)
    low = 0.0 if successes == 0 else 1.0 - _upper(trials - successes, trials, alpha)
    return (low, high)


def proportion_upper_bound(successes: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound (0 of n gives about 3/n)."""
    if trials <= 0:
        return math.nan
    return _upper(successes, trials, 1.0 - confidence)
