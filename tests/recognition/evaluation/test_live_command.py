"""manage.py evaluate_live runs end to end on a small face set and writes its report."""

import json

from django.core.management import call_command
from django.core.management.base import CommandError
import pytest


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
