"""Walk-by calibration: what a threshold means per PASSER-BY, from a ``manage.py evaluate_live`` run. No Django.

The per-image calibration (:mod:`.calibration`) counts one search per still image; forces judge live facial
recognition per passer-by, which is what ``evaluate_live`` measures (a face approaching a camera over many
frames, tracked, embedded a few times, alerted at most once). A walk-by calibration keeps that run's curve
(thresholds 0.00..1.00) with the false alerts per demographic group of its labelled non-mated passers-by,
for one model id and one device (``cpu`` or ``cuda``: the device's live defaults, detector input and frame
rate, change what is found). One dict shape serves the packaged files
(``calibrations/<model_id>.walkby-<device>.json``), the stored records (``ModelCalibration`` of kind
``walkby``) and the audit event.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .calibration import calibration_json, fpir_upper_bound, read_around, read_packaged
from .groups import rates_from_counts, ratio_exceeds

KIND = "walkby"
DEVICES = ("cpu", "cuda")
POINT_FIELDS = ("threshold", "true_alerts", "mated", "tpir", "false_alerts", "nonmated")

__all__ = ["KIND", "DEVICES", "walkby_calibration_from_report", "walkby_calibration_json",
           "packaged_walkby_calibration", "WalkbyExpectation", "walkby_expectation_at", "group_ratio_refusals"]


def rates_per_1000(false_alerts: int, nonmated: int) -> dict:
    """False alerts per 1,000 passers-by and its 95% upper bound (None for both without passers-by)."""
    k, n = false_alerts, nonmated
    return {"per_1000": 1000 * k / n if n else None, "upper95_per_1000": 1000 * fpir_upper_bound(k, n) if n else None}


def point_with_rates(point: dict) -> dict:
    return {**point, **rates_per_1000(point["false_alerts"], point["nonmated"])}


def walkby_calibration_from_report(report: dict, *, command: Sequence[str] | str, measured_on: str) -> dict:
    """The walk-by calibration of one ``evaluate_live`` report (``report["curve"]``).

    ``device`` is the device whose live defaults the run used (``--device-defaults``; ``auto`` is the device
    that ran the models), since that is what a worker on that device does; ``ran_on`` is where it ran."""
    fixes = report.get("label_fixes")
    screening = report.get("screening") or {}
    walk = report.get("walk") or {}
    device = report.get("device_defaults") or report["device"]
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: a walk-by calibration is for one of {', '.join(DEVICES)}")
    return {
        "kind": KIND,
        "model_id": report["model"],
        "device": device,
        "ran_on": report.get("device"),
        "det_size": list(report["det_size"]),
        "fps": walk.get("fps"),
        "frame_size": list(walk["frame_size"]) if walk.get("frame_size") else None,
        "walk_seconds": walk.get("walk_seconds"),
        "decision": report.get("decision"),
        "flip": bool(report.get("flip")),
        "child_entries": report.get("child_entries"),
        "dataset": report["dataset"],
        "nonmated_sets": [Path(p).name for p in report.get("nonmated_sets", [])],
        "label_fixes": (fixes.get("path") if isinstance(fixes, dict) else fixes) or None,
        "exclusions": screening.get("exclusions"),
        "excluded": len(screening.get("excluded") or []),
        "seed": report.get("seed"),
        "gallery_size": report["gallery"],
        "mated_passersby": report["passersby"]["mated"],
        "nonmated_passersby": report["passersby"]["nonmated"],
        "measured_on": measured_on,
        "command": command if isinstance(command, str) else shlex.join(command),
        "curve": [point_with_rates(p) for p in sorted(report["curve"], key=lambda p: p["threshold"])],
    }


def walkby_calibration_json(calibration: dict) -> str:
    """Readable JSON: one line per setting and per curve point (as the per-image calibration)."""
    return calibration_json(calibration)


def packaged_walkby_calibration(model_id: str, device: str) -> dict | None:
    """The walk-by calibration shipped for a model id and device, or None."""
    return read_packaged(f"{model_id}.walkby-{device}.json") if device in DEVICES else None


@dataclass(frozen=True)
class WalkbyExpectation:
    """What one threshold means per passer-by, for one model on one device, read conservatively off the walk-by
    curve: false alerts (overall and per group) at the highest curve threshold <= the chosen one, true alerts at
    the lowest one >= it."""

    model_id: str
    device: str
    threshold: float
    source: str | None  # "packaged", "stored" or None (no walk-by calibration for this model and device)
    calibration_id: int | None = None
    calibration: dict | None = None  # the reference set: everything but the curve
    false_alerts: int | None = None  # None: the threshold is below the calibrated range
    nonmated: int | None = None
    per_1000: float | None = None
    upper95_per_1000: float | None = None
    fpir_from: float | None = None
    true_alerts: int | None = None  # None: the threshold is above the calibrated range
    mated: int | None = None
    tpir: float | None = None
    tpir_from: float | None = None
    group_counts: dict | None = None  # grouping -> group -> [false alerts, passers-by], at fpir_from
    groups: dict | None = None  # rates_from_counts(group_counts): per-group rates, intervals, largest ratios

    @property
    def known(self) -> bool:
        return self.source is not None and self.per_1000 is not None

    @property
    def tpir_percent(self) -> float | None:
        return None if self.tpir is None or math.isnan(self.tpir) else 100 * self.tpir

    @property
    def key(self) -> str:
        return (f"walkby|{self.model_id}|{self.device}|{self.source or 'none'}|{self.calibration_id or ''}|"
                f"{self.threshold:.4f}")

    @property
    def group_tables(self) -> list[dict]:
        """For a page: one table per grouping, rows sorted by group, and its largest ratio."""
        if not self.groups or "note" in self.groups:
            return []
        return [{"grouping": grouping, "rows": [{"group": group} | row for group, row in data["groups"].items()],
                 "largest_ratio": data["largest_ratio"]} for grouping, data in self.groups.items()]

    def as_record(self) -> dict:
        """For the authorisation and its audit event: the figure per passer-by and where it came from."""
        record = {"kind": KIND, "model_id": self.model_id, "device": self.device, "threshold": self.threshold,
                  "source": self.source}
        if self.source is None:
            return record | {"note": f"no walk-by calibration for model {self.model_id} on {self.device}: the "
                                     "false alert rate per passer-by at this threshold is unknown"}
        return record | {
            "calibration_id": self.calibration_id, "false_alerts": self.false_alerts, "nonmated": self.nonmated,
            "per_1000": self.per_1000, "upper95_per_1000": self.upper95_per_1000, "fpir_read_at": self.fpir_from,
            "true_alerts": self.true_alerts, "mated": self.mated, "tpir": self.tpir, "tpir_read_at": self.tpir_from,
            "group_counts": self.group_counts or {},
            "largest_ratios": {g: d["largest_ratio"] for g, d in (self.groups or {}).items() if g != "note"},
            "reference": {k: v for k, v in (self.calibration or {}).items()
                          if k in ("dataset", "nonmated_sets", "label_fixes", "exclusions", "det_size", "fps",
                                   "frame_size", "gallery_size", "mated_passersby", "nonmated_passersby",
                                   "measured_on", "command")},
        }


def walkby_expectation_at(calibration: dict | None, *, model_id: str, device: str, threshold: float,
                          source: str | None = None, calibration_id: int | None = None) -> WalkbyExpectation:
    threshold = float(threshold)
    if calibration is None:
        return WalkbyExpectation(model_id=model_id, device=device, threshold=threshold, source=None)
    reference, low, high = read_around(calibration, threshold)
    common = {"model_id": model_id, "device": device, "threshold": threshold, "source": source or "packaged",
              "calibration_id": calibration_id, "calibration": reference}
    if low is not None:
        k, n = low["false_alerts"], low["nonmated"]
        counts = low.get("groups") or {}
        common |= {"false_alerts": k, "nonmated": n, **rates_per_1000(k, n), "fpir_from": low["threshold"],
                   "group_counts": counts, "groups": rates_from_counts(counts) if counts else None}
    if high is not None:
        common |= {"true_alerts": high["true_alerts"], "mated": high["mated"], "tpir": high["tpir"],
                   "tpir_from": high["threshold"]}
    return WalkbyExpectation(**common)


def group_ratio_refusals(expectation: WalkbyExpectation, maximum: float | None) -> list[str]:
    """Why ``maximum`` (DEPLOYMENT_MAX_GROUP_RATIO) refuses the threshold, one reason per grouping; [] when it is
    off, when there is no walk-by calibration, or when no grouping's largest ratio, or for an unresolved ratio
    its lower bound, exceeds it."""
    if maximum is None or not expectation.groups or "note" in expectation.groups:
        return []
    reasons = []
    for grouping, data in expectation.groups.items():
        ratio = data["largest_ratio"]
        value = ratio_exceeds(ratio, maximum)
        if value is None:
            continue
        high, low = ratio["highest"], ratio["lowest"]
        rows = data["groups"]
        if ratio.get("ratio") is not None:
            how, lowest = "", f"{rows[low]['per_1000']:.1f} per 1,000"
        else:
            how = "at least "
            lowest = (f"0 of {rows[low]['passersby']}, at most {rows[low]['upper95_per_1000']:.1f} per 1,000 at 95%; "
                      "the ratio itself is not resolved")
        reasons.append(
            f"at threshold {expectation.threshold:.2f} the false alert rate per passer-by differs between {grouping} "
            f"groups by {how}{value:.1f} times ({high}: {rows[high]['per_1000']:.1f} per 1,000; {low}: {lowest}), "
            f"more than the maximum ratio of {maximum:g} allowed (DEPLOYMENT_MAX_GROUP_RATIO)")
    return reasons
