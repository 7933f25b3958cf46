"""Threshold calibration per model id: storing an evaluation's curve, and reading what a threshold means.

Two kinds: per face image (``evaluate_watchlist``: one search per still image) and per passer-by
(``evaluate_live``, the walk-by calibration, one per model id and device, with false alerts per group).
The newest stored calibration of a kind (and device) wins; without one, the calibration packaged for
that model (recognition/evaluation/calibrations/<model_id>.json, <model_id>.walkby-<device>.json) is read
from disk when asked for. It is not copied into the database by a migration: the package is the source,
a new release can ship a new curve without a data migration, and a database never holds a figure the
code no longer ships.

The device is the one the camera workers run on: ``recognition.runtime.recognition_device()``
(``RECOGNITION_DEVICE``, docs/evaluation.md "Threshold calibration").
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from audit.actions import AuditAction
from audit.services import audit_record
from core.errors import RuleViolation
from recognition.evaluation import walkby_calibration as walkby
from recognition.evaluation.calibration import Expectation, expectation_at, expectation_rows, packaged_calibration
from recognition.evaluation.walkby_calibration import WalkbyExpectation, group_ratio_refusals, walkby_expectation_at
from recognition.models import ModelCalibration
from recognition.runtime import recognition_device

if TYPE_CHECKING:
    from django.contrib.auth.models import User

POINT_FIELDS = ("threshold", "false_alerts", "fpir", "true_alerts", "tpir")
REFERENCE_FIELDS = ("dataset", "probes", "label_fixes", "flip", "gallery_size", "mated_searches", "nonmated_searches",
                    "measured_on", "command")
WALKBY_REFERENCE_FIELDS = ("device", "dataset", "nonmated_sets", "label_fixes", "exclusions", "det_size", "fps",
                           "gallery_size", "mated_passersby", "nonmated_passersby", "measured_on", "command")
WALKBY_DETAILS = ("ran_on", "det_size", "fps", "frame_size", "walk_seconds", "decision", "flip", "child_entries",
                  "nonmated_sets", "exclusions", "excluded", "seed")


# --- writes -------------------------------------------------------------------------------------

def model_calibration_store(*, actor: User | None, calibration: dict) -> ModelCalibration:
    """Keep one evaluation's curve for its model id (``actor`` None: the system, e.g. a management command).
    A walk-by calibration (``kind`` "walkby", from ``walkby_calibration_from_report``) is kept for its device."""
    if calibration.get("kind") == walkby.KIND:
        return _walkby_store(actor=actor, calibration=calibration)
    curve = calibration.get("curve") or []
    if not curve or any(any(field not in point for field in POINT_FIELDS) for point in curve):
        raise RuleViolation(f"a calibration needs curve points with {', '.join(POINT_FIELDS)}")
    if not calibration.get("nonmated_searches"):
        raise RuleViolation("a calibration needs non-mated searches: without passers-by there is no false alert rate")
    with transaction.atomic():
        record = ModelCalibration.objects.create(
            model_id=calibration["model_id"], dataset=calibration["dataset"], probes=calibration["probes"],
            label_fixes=calibration.get("label_fixes") or "", flip=bool(calibration.get("flip")),
            gallery_size=calibration["gallery_size"], mated_searches=calibration["mated_searches"],
            nonmated_searches=calibration["nonmated_searches"],
            measured_on=dt.date.fromisoformat(calibration["measured_on"]), command=calibration["command"],
            details={k: calibration.get(k) for k in ("seed", "detector", "det_size", "references_per_subject")},
            curve=sorted(curve, key=lambda p: p["threshold"]),
            stored_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, action=AuditAction.CALIBRATION_STORED, target=record,
                     details={"model_id": record.model_id, "points": len(curve)}
                     | {k: calibration.get(k) for k in REFERENCE_FIELDS})
    return record


def _walkby_store(*, actor: User | None, calibration: dict) -> ModelCalibration:
    curve = calibration.get("curve") or []
    if not curve or any(any(field not in point for field in walkby.POINT_FIELDS) for point in curve):
        raise RuleViolation(f"a walk-by calibration needs curve points with {', '.join(walkby.POINT_FIELDS)}")
    if calibration.get("device") not in walkby.DEVICES:
        raise RuleViolation(f"a walk-by calibration is for one device: {', '.join(walkby.DEVICES)}")
    if not calibration.get("nonmated_passersby"):
        raise RuleViolation("a calibration needs non-mated passers-by: without them there is no false alert rate")
    with transaction.atomic():
        record = ModelCalibration.objects.create(
            kind=ModelCalibration.Kind.WALKBY, device=calibration["device"], model_id=calibration["model_id"],
            dataset=calibration["dataset"], probes="walkby", label_fixes=calibration.get("label_fixes") or "",
            flip=False, gallery_size=calibration["gallery_size"], mated_searches=calibration["mated_passersby"],
            nonmated_searches=calibration["nonmated_passersby"],
            measured_on=dt.date.fromisoformat(calibration["measured_on"]), command=calibration["command"],
            details={k: calibration.get(k) for k in WALKBY_DETAILS},
            curve=sorted(curve, key=lambda p: p["threshold"]),
            stored_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, action=AuditAction.CALIBRATION_STORED, target=record,
                     details={"kind": walkby.KIND, "model_id": record.model_id, "points": len(curve)}
                     | {k: calibration.get(k) for k in WALKBY_REFERENCE_FIELDS})
    return record


# --- reads --------------------------------------------------------------------------------------

def _as_dict(record: ModelCalibration) -> dict:
    return {"model_id": record.model_id, "dataset": record.dataset, "probes": record.probes,
            "label_fixes": record.label_fixes or None, "flip": record.flip, "gallery_size": record.gallery_size,
            "mated_searches": record.mated_searches, "nonmated_searches": record.nonmated_searches,
            "measured_on": record.measured_on.isoformat(), "command": record.command, **record.details,
            "curve": record.curve}


def model_calibration_current(*, model_id: str) -> tuple[dict | None, str | None, int | None]:
    """(calibration, source, stored id): the newest stored one, else the packaged one, else (None, None, None)."""
    record = (ModelCalibration.objects.filter(model_id=model_id, kind=ModelCalibration.Kind.IMAGE)
              .order_by("-stored_at", "-pk").first())
    if record is not None:
        return _as_dict(record), "stored", record.pk
    packaged = packaged_calibration(model_id)
    return (packaged, "packaged", None) if packaged else (None, None, None)


def _walkby_as_dict(record: ModelCalibration) -> dict:
    return {"kind": walkby.KIND, "model_id": record.model_id, "device": record.device, "dataset": record.dataset,
            "label_fixes": record.label_fixes or None, "gallery_size": record.gallery_size,
            "mated_passersby": record.mated_searches, "nonmated_passersby": record.nonmated_searches,
            "measured_on": record.measured_on.isoformat(), "command": record.command, **record.details,
            "curve": record.curve}


def walkby_calibration_current(*, model_id: str, device: str) -> tuple[dict | None, str | None, int | None]:
    """(walk-by calibration, source, stored id) for a model on a device: the newest stored, else the packaged."""
    record = (ModelCalibration.objects.filter(model_id=model_id, kind=ModelCalibration.Kind.WALKBY, device=device)
              .order_by("-stored_at", "-pk").first())
    if record is not None:
        return _walkby_as_dict(record), "stored", record.pk
    packaged = walkby.packaged_walkby_calibration(model_id, device)
    return (packaged, "packaged", None) if packaged else (None, None, None)


def walkby_expectation(*, model_id: str, device: str | None = None, threshold: float) -> WalkbyExpectation:
    """Expected false alerts per 1,000 passers-by not on the watchlist (overall and per group), TPIR per
    passer-by, at ``threshold`` for ``model_id`` on ``device`` (default: the workers' device)."""

    device = device or recognition_device()
    calibration, source, stored_id = walkby_calibration_current(model_id=model_id, device=device)
    return walkby_expectation_at(calibration, model_id=model_id, device=device, threshold=threshold, source=source,
                                 calibration_id=stored_id)


def shown_figures_key(expected: Expectation, walkby_expected: WalkbyExpectation) -> str:
    """Names both figures a page shows, so a decision can check they still hold. Without a walk-by
    calibration it is the per-image figure's own key (what pages sent before walk-by calibrations existed)."""
    if walkby_expected.source is None:
        return expected.key
    return f"{expected.key}||{walkby_expected.key}"


def group_ratio_problems(*, model_id: str, threshold: float, walkby_expected: WalkbyExpectation | None = None
                         ) -> list[str]:
    """The one rule of DEPLOYMENT_MAX_GROUP_RATIO: why the walk-by calibration refuses ``threshold`` (one reason
    per grouping whose largest ratio between groups exceeds the maximum; [] when off or nothing exceeds it)."""
    maximum = settings.DEPLOYMENT_MAX_GROUP_RATIO
    if maximum is None:
        return []
    expected = walkby_expected or walkby_expectation(model_id=model_id, threshold=threshold)
    return group_ratio_refusals(expected, maximum)


def threshold_expectation(*, model_id: str, threshold: float) -> Expectation:
    """Expected FPIR (false alerts per face passing that is not on the watchlist), TPIR and the reference
    set, at ``threshold`` for ``model_id``; ``.source`` is None when that model has no calibration."""
    calibration, source, stored_id = model_calibration_current(model_id=model_id)
    return expectation_at(calibration, model_id=model_id, threshold=threshold, source=source,
                          calibration_id=stored_id)


def _walkby_points(calibration: dict | None) -> list[dict]:
    points = sorted(calibration["curve"], key=lambda p: p["threshold"]) if calibration else []
    return [walkby.point_with_rates(p) for p in points]


def threshold_expectation_table(*, model_id: str, threshold: float) -> dict:
    """The expectations at ``threshold`` (per passer-by for the workers' device, and per face image), rows either
    side of it, and every curve point (for a page that updates the figures as the threshold changes), from one
    read of each calibration; ``key`` names both figures, ``ratio_problems`` the DEPLOYMENT_MAX_GROUP_RATIO rule."""

    calibration, source, stored_id = model_calibration_current(model_id=model_id)
    common = {"model_id": model_id, "source": source, "calibration_id": stored_id}
    expected = expectation_at(calibration, threshold=threshold, **common)
    device = recognition_device()
    walk, walk_source, walk_id = walkby_calibration_current(model_id=model_id, device=device)
    walk_expected = walkby_expectation_at(walk, model_id=model_id, device=device, threshold=threshold,
                                          source=walk_source, calibration_id=walk_id)
    return {
        "expectation": expected,
        "rows": expectation_rows(calibration, threshold=threshold, **common) if calibration else [],
        "curve": [[p["threshold"], p["fpir"], p.get("fpir_upper"), p["false_alerts"], p["tpir"]]
                  for p in sorted(calibration["curve"], key=lambda p: p["threshold"])] if calibration else [],
        "walkby": walk_expected,
        # [threshold, per_1000, upper95_per_1000, false_alerts, nonmated, tpir]
        "walkby_curve": [[p["threshold"], p["per_1000"], p["upper95_per_1000"], p["false_alerts"],
                          p["nonmated"], p["tpir"]] for p in _walkby_points(walk)],
        "key": shown_figures_key(expected, walk_expected),
        "ratio_problems": group_ratio_problems(model_id=model_id, threshold=threshold, walkby_expected=walk_expected),
        "max_group_ratio": settings.DEPLOYMENT_MAX_GROUP_RATIO,
    }
