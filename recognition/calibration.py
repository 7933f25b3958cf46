"""Threshold calibration per model id: storing an evaluation's curve, and reading what a threshold means.

The newest stored calibration of a model id wins; without one, the calibration packaged for that model
(recognition/evaluation/calibrations/<model_id>.json) is read from disk when asked for. It is not
copied into the database by a migration: the package is the source, a new release can ship a new
curve without a data migration, and a database never holds a figure the code no longer ships.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from audit.services import audit_record
from config.errors import RuleViolation
from recognition.evaluation.calibration import Expectation, expectation_at, expectation_rows, packaged_calibration
from recognition.models import ModelCalibration

POINT_FIELDS = ("threshold", "false_alerts", "fpir", "true_alerts", "tpir")
REFERENCE_FIELDS = ("dataset", "probes", "label_fixes", "flip", "gallery_size", "mated_searches", "nonmated_searches",
                    "measured_on", "command")


# --- writes -------------------------------------------------------------------------------------

def model_calibration_store(*, actor, calibration: dict, request=None) -> ModelCalibration:
    """Keep one evaluation's curve for its model id (``actor`` None: the system, e.g. a management command)."""
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
        audit_record(actor=actor, action="calibration.stored", target=record, request=request,
                     details={"model_id": record.model_id, "points": len(curve)}
                     | {k: calibration.get(k) for k in REFERENCE_FIELDS})
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
    record = ModelCalibration.objects.filter(model_id=model_id).order_by("-stored_at", "-pk").first()
    if record is not None:
        return _as_dict(record), "stored", record.pk
    packaged = packaged_calibration(model_id)
    return (packaged, "packaged", None) if packaged else (None, None, None)


def threshold_expectation(*, model_id: str, threshold: float) -> Expectation:
    """Expected FPIR (false alerts per face passing that is not on the watchlist), TPIR and the reference
    set, at ``threshold`` for ``model_id``; ``.source`` is None when that model has no calibration."""
    calibration, source, stored_id = model_calibration_current(model_id=model_id)
    return expectation_at(calibration, model_id=model_id, threshold=threshold, source=source,
                          calibration_id=stored_id)


def threshold_expectation_table(*, model_id: str, threshold: float) -> dict:
    """The expectation at ``threshold``, rows either side of it, and every curve point (for a page that
    updates the figure as the threshold changes), from one read of the calibration."""
    calibration, source, stored_id = model_calibration_current(model_id=model_id)
    common = {"model_id": model_id, "source": source, "calibration_id": stored_id}
    return {
        "expectation": expectation_at(calibration, threshold=threshold, **common),
        "rows": expectation_rows(calibration, threshold=threshold, **common) if calibration else [],
        "curve": [[p["threshold"], p["fpir"], p.get("fpir_upper"), p["false_alerts"], p["tpir"]]
                  for p in sorted(calibration["curve"], key=lambda p: p["threshold"])] if calibration else [],
    }
