"""Threshold calibration: what a recogniser's threshold means in false alerts, from an evaluation run.

A calibration is the FPIR/TPIR curve of one evaluation on a reference set, kept per model id, so the
authorising officer reads "about N false alerts per 1,000 passers-by" instead of a bare similarity.
One plain dict shape (``calibration_from_report``) serves the packaged default (``calibrations/``),
the stored records (``recognition.models.ModelCalibration``) and the audit event. No Django.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics

# Every threshold a deployment can be given (the form allows 0..1 in steps of 0.01).
CALIBRATION_THRESHOLDS = tuple(round(0.01 * i, 2) for i in range(101))
CONFIDENCE = 0.95
PACKAGED = Path(__file__).resolve().parent / "calibrations"


def fpir_upper_bound(false_alerts: int, searches: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper-Pearson upper bound on the true false alert rate: with 0 of 1,810 it is 1.7e-3,
    the honest reading of "none seen" on a finite reference set."""
    if searches <= 0:
        return math.nan
    if false_alerts >= searches:
        return 1.0
    alpha = 1.0 - confidence
    if false_alerts == 0:
        return 1.0 - alpha ** (1.0 / searches)
    i = np.arange(false_alerts + 1)
    log_choose = math.lgamma(searches + 1) - np.array([math.lgamma(k + 1) + math.lgamma(searches - k + 1) for k in i])

    def cdf(p: float) -> float:  # P(X <= false_alerts) for X ~ Binomial(searches, p)
        return float(np.exp(log_choose + i * math.log(p) + (searches - i) * math.log1p(-p)).sum())

    low, high = false_alerts / searches, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if cdf(middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def calibration_curve(mated_scores, mated_correct, nonmated_scores,
                      thresholds: Sequence[float] = CALIBRATION_THRESHOLDS) -> list[dict]:
    """Exact counts at each threshold, lowest first."""
    nonmated = metrics._scores(nonmated_scores)
    mated, correct = metrics._scores(mated_scores), np.asarray(mated_correct, dtype=bool).reshape(-1)
    points = []
    for threshold in sorted(thresholds):
        false_alerts = int((nonmated >= threshold).sum())
        true_alerts = int((correct & (mated >= threshold)).sum())
        points.append({
            "threshold": float(threshold), "false_alerts": false_alerts,
            "fpir": false_alerts / len(nonmated) if len(nonmated) else math.nan,
            "fpir_upper": fpir_upper_bound(false_alerts, len(nonmated)),
            "true_alerts": true_alerts, "tpir": true_alerts / len(mated) if len(mated) else math.nan,
        })
    return points


def calibration_from_report(report: dict, *, command: Sequence[str] | str, measured_on: str) -> dict:
    """The calibration of one evaluation report (``report["calibration_curve"]`` from ``run_evaluation``)."""
    fixes = report.get("label_fixes")
    return {
        "model_id": report["model"],
        "dataset": report["dataset"],
        "probes": report["degrade"],
        "label_fixes": fixes["path"] if fixes else None,
        "flip": bool(report["flip"]),
        "seed": report["seed"],
        "references_per_subject": report["references_per_subject"],
        "detector": report["detector"],
        "det_size": list(report["det_size"]),
        "gallery_size": report["gallery"],
        "mated_searches": report["mated_probes"],
        "nonmated_searches": report["nonmated_probes"],
        "measured_on": measured_on,
        "command": command if isinstance(command, str) else shlex.join(command),
        "curve": report["calibration_curve"],
    }


def calibration_json(calibration: dict) -> str:
    """Readable JSON: one line per setting and per curve point."""
    head = {k: v for k, v in calibration.items() if k != "curve"}
    lines = [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    points = ",\n".join(f"  {json.dumps(point)}" for point in calibration["curve"])
    return "{\n" + "\n".join(lines) + '\n "curve": [\n' + points + "\n ]\n}\n"


def read_packaged(file_name: str) -> dict | None:
    """A calibration file shipped in ``calibrations/``, or None (never a file of another folder)."""
    path = PACKAGED / file_name
    if not path.is_file() or path.resolve().parent != PACKAGED:  # model ids never name other folders
        return None
    return json.loads(path.read_text())


def packaged_calibration(model_id: str) -> dict | None:
    """The calibration shipped for a model id, or None."""
    return read_packaged(f"{model_id}.json")


@dataclass(frozen=True)
class Expectation:
    """What one threshold means for one model, read conservatively off its calibration curve."""

    model_id: str
    threshold: float
    source: str | None  # "packaged", "stored" or None (no calibration for this model id)
    calibration_id: int | None = None
    calibration: dict | None = None  # the reference set: everything but the curve
    fpir: float | None = None  # None: the threshold is below the calibrated range
    fpir_upper: float | None = None
    false_alerts: int | None = None
    fpir_from: float | None = None  # the curve threshold the FPIR was read at (<= threshold)
    tpir: float | None = None  # None: the threshold is above the calibrated range
    tpir_from: float | None = None  # the curve threshold the TPIR was read at (>= threshold)

    @property
    def known(self) -> bool:
        return self.source is not None and self.fpir is not None

    @property
    def per_1000(self) -> float | None:
        return None if self.fpir is None else 1000 * self.fpir

    @property
    def per_1000_upper(self) -> float | None:
        return None if self.fpir_upper is None else 1000 * self.fpir_upper

    @property
    def tpir_percent(self) -> float | None:
        return None if self.tpir is None else 100 * self.tpir

    @property
    def key(self) -> str:
        """Names exactly the figure shown, so a decision can check it still holds."""
        return f"{self.model_id}|{self.source or 'none'}|{self.calibration_id or ''}|{self.threshold:.4f}"

    def as_record(self) -> dict:
        """For the audit event: the figure and where it came from."""
        record = {"model_id": self.model_id, "threshold": self.threshold, "source": self.source}
        if self.source is None:
            return record | {"note": f"no calibration for model {self.model_id}: the false alert rate at this "
                                     "threshold is unknown"}
        return record | {
            "calibration_id": self.calibration_id, "fpir": self.fpir, "per_1000": self.per_1000,
            "fpir_upper_95": self.fpir_upper, "false_alerts": self.false_alerts, "fpir_read_at": self.fpir_from,
            "tpir": self.tpir, "tpir_read_at": self.tpir_from,
            "reference": {k: v for k, v in (self.calibration or {}).items()
                          if k in ("dataset", "probes", "label_fixes", "flip", "gallery_size", "mated_searches",
                                   "nonmated_searches", "measured_on", "command")},
        }


def read_around(calibration: dict, threshold: float) -> tuple[dict, dict | None, dict | None]:
    """The reference set (everything but the curve), the curve point with the highest threshold <= ``threshold``
    (None: it is below the calibrated range) and the one with the lowest threshold >= it (None: above)."""
    reference = {k: v for k, v in calibration.items() if k != "curve"}
    points = sorted(calibration["curve"], key=lambda p: p["threshold"])
    tolerance = 1e-9
    below = [p for p in points if p["threshold"] <= threshold + tolerance]
    above = [p for p in points if p["threshold"] >= threshold - tolerance]
    return reference, (below[-1] if below else None), (above[0] if above else None)


def expectation_at(calibration: dict | None, *, model_id: str, threshold: float, source: str | None = None,
                   calibration_id: int | None = None) -> Expectation:
    """FPIR at the highest curve threshold <= ``threshold`` and TPIR at the lowest one >= it: both rates
    fall as the threshold rises, so these bound the true values from the safe side (more false alerts,
    fewer true ones) whatever lies between two curve points."""
    threshold = float(threshold)
    if calibration is None:
        return Expectation(model_id=model_id, threshold=threshold, source=None)
    reference, low, high = read_around(calibration, threshold)
    return Expectation(
        model_id=model_id, threshold=threshold, source=source or "packaged", calibration_id=calibration_id,
        calibration=reference,
        fpir=None if low is None else low["fpir"],
        fpir_upper=None if low is None else low.get("fpir_upper"),
        false_alerts=None if low is None else low["false_alerts"],
        fpir_from=None if low is None else low["threshold"],
        tpir=None if high is None else high["tpir"],
        tpir_from=None if high is None else high["threshold"],
    )


def expectation_rows(calibration: dict | None, *, model_id: str, threshold: float, source: str | None = None,
                     calibration_id: int | None = None, step: float = 0.05, each_side: int = 2) -> list[Expectation]:
    """The chosen threshold and ``each_side`` steps either side of it, within 0..1."""
    offsets = range(-each_side, each_side + 1)
    values = [round(threshold + step * offset, 4) if offset else threshold for offset in offsets]
    return [expectation_at(calibration, model_id=model_id, threshold=value, source=source,
                           calibration_id=calibration_id) for value in values if 0.0 <= value <= 1.0]
