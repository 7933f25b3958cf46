"""Paths that default to places under LFR_VAR_DIR follow it, and their own variable still overrides."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setting(name: str, env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"CAMERA_FILE_ROOT", "LFR_VAR_DIR"}}
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_camera_file_root_follows_the_var_dir_unless_set(tmp_path):
    assert _setting("CAMERA_FILE_ROOT", {"LFR_VAR_DIR": str(tmp_path)}) == str(tmp_path / "video")
    elsewhere = tmp_path / "recordings"
    assert _setting("CAMERA_FILE_ROOT", {"LFR_VAR_DIR": str(tmp_path), "CAMERA_FILE_ROOT": str(elsewhere)}) \
        == str(elsewhere)
