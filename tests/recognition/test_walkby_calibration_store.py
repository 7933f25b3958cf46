"""Walk-by calibrations kept per model id and device, read back for the workers' device, and that device."""

import json

import pytest

from audit.models import AuditEvent
from core.errors import RuleViolation
from recognition.calibration import (
    model_calibration_current,
    model_calibration_store,
    walkby_calibration_current,
    walkby_expectation,
)
from recognition.evaluation import calibration as calibration_module
from recognition.evaluation.walkby_calibration import walkby_calibration_json
from recognition.models import ModelCalibration
from recognition.runtime import recognition_device
from tests.factories import stored_walkby_calibration, walkby_calibration

pytestmark = pytest.mark.django_db
MODEL = "walk_model-00000000000a"


def test_storing_a_walk_by_calibration_is_audited_and_kept_for_its_device(commander):
    record = model_calibration_store(actor=commander, calibration=walkby_calibration(MODEL, "cuda"))
    assert (record.kind, record.device, record.model_id) == ("walkby", "cuda", MODEL)
    assert (record.mated_searches, record.nonmated_searches, record.stored_by) == (150, 450, commander)
    event = AuditEvent.objects.get(action="calibration.stored")
    assert event.actor == commander and event.target_id == str(record.pk)
    assert event.details["kind"] == "walkby" and event.details["device"] == "cuda"
    assert event.details["nonmated_passersby"] == 450 and event.details["det_size"] == [960, 544]
    # it is not a per-image calibration: the per-image figure does not change
    assert model_calibration_current(model_id=MODEL) == (None, None, None)


def test_the_newest_walk_by_calibration_of_the_device_is_the_one_read(settings):
    settings.RECOGNITION_DEVICE = "cpu"
    older = stored_walkby_calibration(MODEL, "cpu")
    newer = stored_walkby_calibration(MODEL, "cpu", points=[(0.45, 45, 100, {})])
    stored_walkby_calibration(MODEL, "cuda", points=[(0.45, 1, 149, {})])
    calibration, source, stored_id = walkby_calibration_current(model_id=MODEL, device="cpu")
    assert (source, stored_id) == ("stored", newer.pk) and stored_id != older.pk
    assert calibration["nonmated_passersby"] == 450 and calibration["det_size"] == [640, 384]
    expected = walkby_expectation(model_id=MODEL, threshold=0.45)  # the workers' device: cpu
    assert expected.device == "cpu" and expected.per_1000 == pytest.approx(100) and expected.calibration_id == newer.pk
    settings.RECOGNITION_DEVICE = "cuda"
    assert walkby_expectation(model_id=MODEL, threshold=0.45).per_1000 == pytest.approx(1000 / 450)


def test_without_a_stored_one_the_packaged_file_of_the_device_is_read(settings, tmp_path, monkeypatch):
    settings.RECOGNITION_DEVICE = "cuda"
    monkeypatch.setattr(calibration_module, "PACKAGED", tmp_path)
    assert walkby_expectation(model_id=MODEL, threshold=0.45).source is None
    (tmp_path / f"{MODEL}.walkby-cuda.json").write_text(walkby_calibration_json(walkby_calibration(MODEL, "cuda")))
    expected = walkby_expectation(model_id=MODEL, threshold=0.45)
    assert expected.source == "packaged" and expected.false_alerts == 6 and expected.calibration_id is None
    assert walkby_expectation(model_id=MODEL, device="cpu", threshold=0.45).source is None
    stored = stored_walkby_calibration(MODEL, "cuda")
    assert walkby_expectation(model_id=MODEL, threshold=0.45).calibration_id == stored.pk  # a stored one wins


def test_incomplete_walk_by_calibrations_are_refused_and_leave_nothing(commander):
    broken = walkby_calibration(MODEL)
    broken["curve"] = [{k: v for k, v in p.items() if k != "nonmated"} for p in broken["curve"]]
    with pytest.raises(RuleViolation, match="curve points with"):
        model_calibration_store(actor=commander, calibration=broken)
    with pytest.raises(RuleViolation, match="one device"):
        model_calibration_store(actor=commander, calibration=walkby_calibration(MODEL) | {"device": "tpu"})
    with pytest.raises(RuleViolation, match="non-mated passers-by"):
        model_calibration_store(actor=commander, calibration=walkby_calibration(MODEL) | {"nonmated_passersby": 0})
    assert not ModelCalibration.objects.exists() and not AuditEvent.objects.filter(action="calibration.stored").exists()


@pytest.mark.parametrize(("setting", "providers", "available", "device"), [
    ("cpu", ["CUDAExecutionProvider"], [], "cpu"),  # said outright: wins
    ("cuda", [], [], "cuda"),
    ("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"], [], "cuda"),  # the first the workers try
    ("auto", ["CPUExecutionProvider"], ["CUDAExecutionProvider"], "cpu"),
    ("auto", [], ["CUDAExecutionProvider", "CPUExecutionProvider"], "cuda"),  # none named: what onnxruntime offers
    ("auto", [], ["CPUExecutionProvider"], "cpu"),
])
def test_the_workers_device_comes_from_the_settings(settings, monkeypatch, setting, providers, available, device):
    import onnxruntime

    settings.RECOGNITION_DEVICE, settings.INFERENCE_PROVIDERS = setting, providers
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: available)
    assert recognition_device() == device


def test_the_stored_record_round_trips_to_the_written_file(tmp_path):
    written = walkby_calibration(MODEL)
    stored_walkby_calibration(MODEL)
    calibration, _, _ = walkby_calibration_current(model_id=MODEL, device="cpu")
    assert calibration["curve"] == json.loads(walkby_calibration_json(written))["curve"]
    assert {k: calibration[k] for k in ("fps", "frame_size", "nonmated_sets", "exclusions", "measured_on")} == {
        "fps": 25.0, "frame_size": [1920, 1080], "nonmated_sets": ["utkface-dev"], "exclusions": "walkby-nonmated",
        "measured_on": "2026-11-02"}
