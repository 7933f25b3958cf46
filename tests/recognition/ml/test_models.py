import re
import shutil

import pytest

from recognition.ml import EngineConfig, FaceEngine, ModelFileError, find_model_pack
from recognition.ml.models import default_model_dir, inspect_detector, inspect_recogniser, model_id_for


def test_default_pack_is_the_bundled_scrfd_500m_and_arcface_mbf():
    pack = find_model_pack()
    assert pack.detector.path.name == "scrfd_500m_bnkps.onnx"
    assert pack.recogniser.path.name == "w600k_mbf.onnx"
    assert re.fullmatch(r"scrfd_500m_bnkps-[0-9a-f]{12}", pack.detector.model_id)
    assert re.fullmatch(r"w600k_mbf-[0-9a-f]{12}", pack.recogniser.model_id)
    assert pack.pack_id == f"{pack.detector.model_id}+{pack.recogniser.model_id}"


def test_model_id_follows_file_content_not_name(tmp_path):
    first, second = tmp_path / "w600k_x.onnx", tmp_path / "w600k_y.onnx"
    first.write_bytes(b"weights one")
    second.write_bytes(b"weights one")
    assert model_id_for(first).split("-")[1] == model_id_for(second).split("-")[1]
    second.write_bytes(b"weights two")
    assert model_id_for(first).split("-")[1] != model_id_for(second).split("-")[1]


def test_buffalo_style_folder_is_picked_by_name_rule(tmp_path):
    source = default_model_dir()
    shutil.copy(source / "scrfd_500m_bnkps.onnx", tmp_path / "det_10g.onnx")
    shutil.copy(source / "w600k_mbf.onnx", tmp_path / "w600k_r50.onnx")
    shutil.copy(source / "2d106det.onnx", tmp_path / "2d106det.onnx")  # landmark model: neither role
    pack = find_model_pack(model_dir=tmp_path)
    assert pack.detector.path.name == "det_10g.onnx"
    assert pack.recogniser.path.name == "w600k_r50.onnx"
    assert pack.recogniser.model_id.startswith("w600k_r50-")


def test_helper_graphs_lose_to_the_real_network_in_the_bundled_folder():
    # The bundled folder also holds scrfd_nms.onnx, scrfd_resize.onnx... (tiny post-processing graphs).
    pack = find_model_pack(model_dir=default_model_dir())
    assert pack.detector.path.name == "scrfd_500m_bnkps.onnx"
    assert pack.recogniser.path.name == "w600k_mbf.onnx"


def test_missing_folder_names_it_and_says_how_to_supply_models(tmp_path):
    with pytest.raises(ModelFileError) as error:
        find_model_pack(model_dir=tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(error.value)
    assert "MODEL_DIR" in str(error.value)


def test_folder_without_recogniser_says_which_role_is_missing(tmp_path):
    shutil.copy(default_model_dir() / "scrfd_500m_bnkps.onnx", tmp_path / "det_500m.onnx")
    with pytest.raises(ModelFileError, match="no face recogniser"):
        find_model_pack(model_dir=tmp_path)


@pytest.mark.parametrize("content", [b"this is not an onnx model at all", None], ids=["garbage", "truncated"])
def test_corrupt_detector_file_raises_model_file_error_naming_it(tmp_path, content):
    real = (default_model_dir() / "scrfd_500m_bnkps.onnx").read_bytes()
    (tmp_path / "det_broken.onnx").write_bytes(content if content is not None else real[: len(real) // 2])
    shutil.copy(default_model_dir() / "w600k_mbf.onnx", tmp_path / "w600k_mbf.onnx")
    pack = find_model_pack(model_dir=tmp_path)
    with pytest.raises(ModelFileError) as error:
        inspect_detector(pack.detector)
    assert "det_broken.onnx" in str(error.value)
    assert "MODEL_DIR" in str(error.value)


def test_engine_refuses_a_corrupt_recogniser(tmp_path):
    shutil.copy(default_model_dir() / "scrfd_500m_bnkps.onnx", tmp_path / "det_500m.onnx")
    (tmp_path / "w600k_mbf.onnx").write_bytes(b"\x08\x07garbage")
    with pytest.raises(ModelFileError, match="w600k_mbf.onnx"):
        FaceEngine(config=EngineConfig(model_dir=tmp_path))


def test_a_network_in_the_wrong_role_is_refused(tmp_path):
    shutil.copy(default_model_dir() / "w600k_mbf.onnx", tmp_path / "det_wrong_kind.onnx")
    shutil.copy(default_model_dir() / "w600k_mbf.onnx", tmp_path / "w600k_mbf.onnx")
    pack = find_model_pack(model_dir=tmp_path)
    with pytest.raises(ModelFileError, match="not a face detector"):
        inspect_detector(pack.detector)


def test_specs_read_preprocessing_from_insightface():
    pack = find_model_pack()
    detector = inspect_detector(pack.detector)
    recogniser = inspect_recogniser(pack.recogniser)
    assert detector.strides == (8, 16, 32) and detector.anchors_per_location == 2
    assert (detector.input_mean, detector.input_std) == (127.5, 128.0)
    assert (recogniser.input_mean, recogniser.input_std) == (127.5, 127.5)
    assert recogniser.input_size == 112 and recogniser.embedding_size == 512
