"""manage.py evaluate_live runs end to end on a small face set and writes its report."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_command_writes_report_and_prints_targets(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "out"
    call_command("evaluate_live", "--dataset", str(tiny_dataset), "--gallery-size", "7", "--frame-size", "1280x720",
                 "--fps", "10", "--walk-seconds", "1.5", "--inter-ocular", "30-70", "--lanes", "4",
                 "--background", "synthetic", "--device-defaults", "cpu", "--cache-dir", str(tmp_path / "cache"),
                 "--out", str(out))
    printed = capsys.readouterr().out
    assert "targets (measured, not asserted):" in printed and "threshold 0.45: TPIR" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["det_size"] == [640, 384] and report["device_defaults"] == "cpu"
    assert report["walk"]["frames_per_walk"] == 15 and report["walk"]["frame_size"] == [1280, 720]
    assert report["operating_threshold"]["threshold"] == 0.45
    assert (out / "report.md").is_file()


def test_command_refuses_a_missing_dataset(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("evaluate_live", "--dataset", str(tmp_path / "nowhere"))


def test_command_evaluates_the_model_pack_in_model_dir(tiny_dataset, tmp_path, settings):
    """Any MODEL_DIR pack: the same files under other names are another pack, and the report says so."""
    import shutil

    from recognition.ml.models import default_model_dir

    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(default_model_dir() / "scrfd_500m_bnkps.onnx", pack / "scrfd_other.onnx")
    shutil.copy(default_model_dir() / "w600k_mbf.onnx", pack / "arcface_other.onnx")
    settings.MODEL_DIR = str(pack)
    out = tmp_path / "out"
    call_command("evaluate_live", "--dataset", str(tiny_dataset), "--gallery-size", "7", "--frame-size", "960x540",
                 "--fps", "10", "--walk-seconds", "1", "--inter-ocular", "30-60", "--lanes", "4",
                 "--background", "synthetic", "--cache-dir", str(tmp_path / "cache"), "--out", str(out))
    report = json.loads((out / "report.json").read_text())
    assert report["pack_dir"] == str(pack)
    assert report["model"].startswith("arcface_other-") and report["detector"].startswith("scrfd_other-")


@pytest.mark.django_db
def test_command_writes_and_stores_the_walk_by_calibration(tiny_dataset, tmp_path, capsys, commander):
    from audit.models import AuditEvent
    from recognition.calibration import walkby_expectation
    from recognition.models import ModelCalibration

    out, written = tmp_path / "out", tmp_path / "calibrations" / "walkby.json"
    call_command("evaluate_live", "--dataset", str(tiny_dataset), "--gallery-size", "7", "--frame-size", "1280x720",
                 "--fps", "10", "--walk-seconds", "1.5", "--inter-ocular", "30-70", "--lanes", "4",
                 "--background", "synthetic", "--device-defaults", "cpu", "--cache-dir", str(tmp_path / "cache"),
                 "--out", str(out), "--write-calibration", str(written), "--store-calibration",
                 "--actor", commander.username, "--compare", "none", "--save-recording", str(tmp_path / "run.pkl"))
    printed = capsys.readouterr().out
    assert f"wrote walk-by calibration {written}" in printed and "stored walk-by calibration" in printed
    report = json.loads((out / "report.json").read_text())
    calibration = json.loads(written.read_text())
    assert calibration["kind"] == "walkby" and calibration["model_id"] == report["model"]
    assert calibration["device"] == "cpu" and calibration["det_size"] == [640, 384] and calibration["fps"] == 10
    assert calibration["nonmated_passersby"] == report["passersby"]["nonmated"]
    assert [p["false_alerts"] for p in calibration["curve"]] == [p["false_alerts"] for p in report["curve"]]
    assert calibration["command"].startswith(f"manage.py evaluate_live --dataset {tiny_dataset}")
    assert "--device-defaults cpu" in calibration["command"] and "--fps 10" in calibration["command"]
    assert "--decision frame" in calibration["command"] and calibration["decision"] == report["decision"]
    record = ModelCalibration.objects.get()
    assert (record.kind, record.device, record.stored_by) == ("walkby", "cpu", commander)
    assert record.curve == calibration["curve"]
    assert AuditEvent.objects.get(action="calibration.stored").details["kind"] == "walkby"
    at_045 = next(p for p in report["curve"] if p["threshold"] == 0.45)
    expected = walkby_expectation(model_id=report["model"], device="cpu", threshold=0.45)
    assert expected.source == "stored" and expected.false_alerts == at_045["false_alerts"]
    assert expected.tpir == pytest.approx(report["operating_threshold"]["tpir"]["rate"])

    # measured again from the recording: the same curve, and a command line that says so
    again = tmp_path / "again.json"
    call_command("evaluate_live", "--from-recording", str(tmp_path / "run.pkl"), "--compare", "none",
                 "--out", str(tmp_path / "again"), "--write-calibration", str(again))
    remeasured = json.loads(again.read_text())
    assert remeasured["curve"] == calibration["curve"] and remeasured["device"] == "cpu"
    assert remeasured["command"].startswith(f"manage.py evaluate_live --from-recording {tmp_path / 'run.pkl'} "
                                            f"--dataset {tiny_dataset}")
    assert ModelCalibration.objects.count() == 1  # written, not stored


def test_a_saved_recording_is_measured_again_under_another_decision_and_child_policy(tiny_dataset, tmp_path, capsys):
    from recognition.evaluation.live import Recording

    recording = tmp_path / "run.pkl"
    common = ["--gallery-size", "7", "--frame-size", "1280x720", "--fps", "10", "--walk-seconds", "1.5",
              "--inter-ocular", "30-70", "--lanes", "4", "--background", "synthetic", "--device-defaults", "cpu",
              "--cache-dir", str(tmp_path / "cache")]
    call_command("evaluate_live", "--dataset", str(tiny_dataset), *common, "--save-recording", str(recording),
                 "--compare", "none", "--out", str(tmp_path / "first"))
    first = json.loads((tmp_path / "first" / "report.json").read_text())
    assert first["decision"] == {"name": "frame"} and [r["decision"] for r in first["decisions"]] == [{"name": "frame"}]
    assert first["operating_threshold"]["tpir"]["count"] > 0

    # Every enrolled person who walked past is declared a child entry, with an offset no score reaches.
    mated = sorted({w.identity for w in Recording.load(recording).walkers if w.mated})
    children = tmp_path / "children.json"
    children.write_text(json.dumps({"child_entries": [{"identity": i, "why": "test"} for i in mated]}))
    capsys.readouterr()
    call_command("evaluate_live", "--from-recording", str(recording), "--decision", "template:keep=3,min_frames=1",
                 "--compare", "frame", "--child-entries", str(children), "--child-offset", "0.6",
                 "--out", str(tmp_path / "again"))
    again = json.loads((tmp_path / "again" / "report.json").read_text())
    assert again["decision"] == {"name": "template", "keep": 3, "min_frames": 1}
    assert again["child_entries"]["in_gallery"] == mated and again["child_entries"]["offset"] == 0.6
    assert again["operating_threshold"]["tpir"]["count"] == 0  # 0.45 + 0.6 is out of reach
    assert [(r["decision"]["name"], r["child_offset"]) for r in again["decisions"]] == [
        ("template", 0.6), ("frame", 0.6), ("template", 0.05), ("template", 0.1), ("template", 0.15)]
    assert again["decisions"][2]["operating"]["tpir"]["count"] > 0  # a small offset keeps them
    assert again["passersby"] == first["passersby"]

    # Screened after the run: an exclusion given now drops that passer-by from every figure.
    stranger = next(w for w in Recording.load(recording).walkers if not w.mated)
    exclusions = tmp_path / "exclusions.json"
    exclusions.write_text(json.dumps({"exclude": [{"image": stranger.key, "why": "test: screened after the run"}]}))
    call_command("evaluate_live", "--from-recording", str(recording), "--exclusions", str(exclusions),
                 "--compare", "none", "--out", str(tmp_path / "screened"))
    screened = json.loads((tmp_path / "screened" / "report.json").read_text())
    assert screened["passersby"]["nonmated"] == first["passersby"]["nonmated"] - 1
    assert screened["passersby"]["mated"] == first["passersby"]["mated"]
    assert screened["operating_threshold"]["false_alerts"]["passersby"] == first["passersby"]["nonmated"] - 1
    assert {"key": stranger.key, "why": "test: screened after the run"} in screened["screening"]["excluded"]
    assert screened["operating_threshold"]["tpir"] == first["operating_threshold"]["tpir"]
    assert "alert decisions on the same run" in capsys.readouterr().out


def test_a_missing_or_foreign_recording_is_refused(tmp_path):
    with pytest.raises(CommandError, match="cannot read the recording"):
        call_command("evaluate_live", "--from-recording", str(tmp_path / "none.pkl"))
    foreign = tmp_path / "foreign.pkl"
    import pickle

    foreign.write_bytes(pickle.dumps({"not": "a recording"}))
    with pytest.raises(CommandError, match="not a walk-by recording"):
        call_command("evaluate_live", "--from-recording", str(foreign))


def test_an_unknown_decision_is_refused_before_any_work(tiny_dataset):
    with pytest.raises(CommandError, match="unknown alert decision 'best'"):
        call_command("evaluate_live", "--dataset", str(tiny_dataset), "--decision", "best")


def test_a_run_in_shards_is_measured_as_one_and_its_calibration_says_so(tiny_dataset, tmp_path):
    common = ["--dataset", str(tiny_dataset), "--gallery-size", "7", "--frame-size", "1280x720", "--fps", "10",
              "--walk-seconds", "1.5", "--inter-ocular", "30-70", "--lanes", "4", "--background", "synthetic",
              "--device-defaults", "cpu", "--cache-dir", str(tmp_path / "cache"), "--compare", "none"]
    call_command("evaluate_live", *common, "--out", str(tmp_path / "whole"), "--write-calibration", str(tmp_path / "whole.json"))
    for k in (1, 2):
        call_command("evaluate_live", *common, "--shard", f"{k}/2", "--save-recording", str(tmp_path / f"part{k}.pkl"),
                     "--out", str(tmp_path / f"part{k}"), "--write-calibration", str(tmp_path / f"part{k}.json"))
    assert "--shard 1/2" in " ".join(json.loads((tmp_path / "part1.json").read_text())["command"].split())
    call_command("evaluate_live", "--from-recording", str(tmp_path / "part1.pkl"), "--from-recording",
                 str(tmp_path / "part2.pkl"), "--compare", "none", "--out", str(tmp_path / "merged"),
                 "--write-calibration", str(tmp_path / "merged.json"))
    whole = json.loads((tmp_path / "whole" / "report.json").read_text())
    merged = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert merged["curve"] == whole["curve"] and merged["passersby"] == whole["passersby"]
    calibrations = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in ("merged", "whole")}
    assert calibrations["merged"]["curve"] == calibrations["whole"]["curve"]
    with pytest.raises(CommandError, match="given twice"):
        call_command("evaluate_live", "--from-recording", str(tmp_path / "part1.pkl"), "--from-recording",
                     str(tmp_path / "part1.pkl"))
    with pytest.raises(CommandError, match="shard"):
        call_command("evaluate_live", *common, "--shard", "3/2")
