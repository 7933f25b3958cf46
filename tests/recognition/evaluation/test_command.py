import json

import pytest
from django.core.management import CommandError, call_command


def test_evaluate_watchlist_command_writes_the_report(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "report"
    call_command("evaluate_watchlist", "--dataset", str(tiny_dataset), "--gallery-size", "7", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache"), "--threshold", "0.4")
    printed = capsys.readouterr().out
    assert "rank-1" in printed and "TPIR at FPIR 1e-3" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["gallery"] == 7 and report["det_size"] == [320, 320] and report["operating_threshold"]["threshold"] == 0.4
    assert (out / "det.png").is_file() and (out / "report.md").is_file()


def test_command_refuses_a_missing_folder_and_an_oversized_gallery(tiny_dataset, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("evaluate_watchlist", "--dataset", str(tmp_path / "nowhere"))
    with pytest.raises(CommandError, match="no non-mated"):
        call_command("evaluate_watchlist", "--dataset", str(tiny_dataset), "--gallery-size", "11", "--no-cache",
                     "--out", str(tmp_path / "x"))
