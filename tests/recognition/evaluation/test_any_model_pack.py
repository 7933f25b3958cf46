"""Any MODEL_DIR pack gets its own figures: evaluate_live and the calibration run on a force's own pack
and carry that pack's model id, never the default one (issue 11, item 6).

The pack is built here from the packaged one: the same detector file, and the same recogniser re-saved
with a metadata entry of its own (as a force's licensed model would be another file). Its name is
unchanged, so only the content differs: the model id (file stem + 12 hex of the file's SHA-256) must
follow the content, not the name.
"""

import json
import shutil

import onnx
import pytest
from django.core.management import call_command

from recognition.calibration import threshold_expectation
from recognition.ml.models import DEFAULT_DETECTOR_FILE, DEFAULT_RECOGNISER_FILE, default_model_dir, model_id_for
from recognition.models import ModelCalibration


@pytest.fixture(scope="module")
def force_pack(tmp_path_factory):
    pack = tmp_path_factory.mktemp("force-pack")
    shutil.copy(default_model_dir() / DEFAULT_DETECTOR_FILE, pack / DEFAULT_DETECTOR_FILE)
    model = onnx.load_model(str(default_model_dir() / DEFAULT_RECOGNISER_FILE))
    entry = model.metadata_props.add()
    entry.key, entry.value = "supplied_by", "test force: licensed model stand-in"
    onnx.save_model(model, str(pack / DEFAULT_RECOGNISER_FILE))
    return pack


def test_a_resaved_recogniser_is_another_model(force_pack):
    default_id = model_id_for(default_model_dir() / DEFAULT_RECOGNISER_FILE)
    own_id = model_id_for(force_pack / DEFAULT_RECOGNISER_FILE)
    assert own_id.startswith("w600k_mbf-") and own_id != default_id
    assert model_id_for(force_pack / DEFAULT_DETECTOR_FILE) == model_id_for(default_model_dir() / DEFAULT_DETECTOR_FILE)


@pytest.mark.django_db
def test_evaluate_live_and_the_calibration_carry_the_packs_model_id(force_pack, tiny_dataset, tmp_path, settings, capsys):
    settings.MODEL_DIR = str(force_pack)
    own_id = model_id_for(force_pack / DEFAULT_RECOGNISER_FILE)
    default_id = model_id_for(default_model_dir() / DEFAULT_RECOGNISER_FILE)
    cache = tmp_path / "cache"

    call_command("evaluate_live", "--dataset", str(tiny_dataset), "--gallery-size", "7", "--frame-size", "960x540",
                 "--fps", "10", "--walk-seconds", "1", "--inter-ocular", "30-60", "--lanes", "4",
                 "--background", "synthetic", "--device-defaults", "cpu", "--cache-dir", str(cache),
                 "--out", str(tmp_path / "live"))
    live = json.loads((tmp_path / "live" / "report.json").read_text())
    assert live["model"] == own_id != default_id
    assert live["pack_dir"] == str(force_pack) and live["pack"].endswith(f"+{own_id}")
    assert live["operating_threshold"]["tpir"]["of"] > 0  # it really ran: passers-by walked past
    # The embedding cache is per model id: the force's pack never reads the default model's vectors.
    assert sorted(p.name for p in cache.iterdir()) == [f"{own_id}.sqlite"]

    calibration_file = tmp_path / "calibration.json"
    call_command("evaluate_watchlist", "--dataset", str(tiny_dataset), "--gallery-size", "7", "--no-flip",
                 "--cache-dir", str(cache), "--out", str(tmp_path / "watchlist"),
                 "--store-calibration", "--write-calibration", str(calibration_file))
    assert "stored calibration" in capsys.readouterr().out
    watchlist = json.loads((tmp_path / "watchlist" / "report.json").read_text())
    written = json.loads(calibration_file.read_text())
    stored = ModelCalibration.objects.get()
    assert watchlist["model"] == written["model_id"] == stored.model_id == own_id
    # Authorisation forms read it for that pack; the default model keeps its packaged curve.
    assert threshold_expectation(model_id=own_id, threshold=0.45).source == "stored"
    assert threshold_expectation(model_id=default_id, threshold=0.45).source == "packaged"
