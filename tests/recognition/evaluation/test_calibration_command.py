"""evaluate_watchlist --store-calibration / --write-calibration on the tiny packaged-photo set (no ../shared)."""

import json

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from recognition.calibration import threshold_expectation
from recognition.models import ModelCalibration

pytestmark = pytest.mark.django_db


def evaluate(tiny_dataset, tmp_path, *extra):
    call_command("evaluate_watchlist", "--dataset", str(tiny_dataset), "--gallery-size", "7", "--out",
                 str(tmp_path / "report"), "--cache-dir", str(tmp_path / "cache"), "--no-flip", *extra)
    return json.loads((tmp_path / "report" / "report.json").read_text())


def test_the_command_stores_the_curve_for_the_model_it_evaluated(tiny_dataset, tmp_path, engine, capsys):
    report = evaluate(tiny_dataset, tmp_path, "--store-calibration", "--write-calibration", str(tmp_path / "c.json"))
    assert "stored calibration" in capsys.readouterr().out
    record = ModelCalibration.objects.get()
    assert record.model_id == report["model"] == engine.model_id
    assert (record.gallery_size, record.mated_searches, record.nonmated_searches) == (
        report["gallery"], report["mated_probes"], report["nonmated_probes"])
    assert record.dataset == tiny_dataset.name and record.probes == "none" and not record.flip
    assert record.command.startswith(f"manage.py evaluate_watchlist --dataset {tiny_dataset}")
    assert "--no-flip" in record.command and "--gallery-size 7" in record.command
    by_threshold = {p["threshold"]: p for p in record.curve}
    for key, point in report["at_threshold"].items():  # the curve agrees with the report's own figures
        assert by_threshold[float(key)]["fpir"] == pytest.approx(point["fpir"])
        assert by_threshold[float(key)]["tpir"] == pytest.approx(point["tpir"])
    assert json.loads((tmp_path / "c.json").read_text())["curve"] == record.curve

    event = AuditEvent.objects.get(action="calibration.stored")
    assert event.actor is None and event.target_id == str(record.pk) and event.details["model_id"] == engine.model_id
    expected = threshold_expectation(model_id=engine.model_id, threshold=0.40)
    assert expected.source == "stored" and expected.calibration_id == record.pk
    assert expected.fpir == pytest.approx(report["at_threshold"]["0.40"]["fpir"])


def test_an_actor_is_recorded_and_an_unknown_one_refused_before_the_run(tiny_dataset, tmp_path, commander):
    evaluate(tiny_dataset, tmp_path, "--store-calibration", "--actor", commander.username)
    assert AuditEvent.objects.get(action="calibration.stored").actor == commander
    assert ModelCalibration.objects.get().stored_by == commander
    with pytest.raises(CommandError, match="no active user"):
        evaluate(tiny_dataset, tmp_path, "--store-calibration", "--actor", "nobody")
    assert ModelCalibration.objects.count() == 1


def test_without_the_option_nothing_is_stored(tiny_dataset, tmp_path):
    report = evaluate(tiny_dataset, tmp_path)
    assert len(report["calibration_curve"]) == 101 and not ModelCalibration.objects.exists()
