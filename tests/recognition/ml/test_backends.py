import logging

import numpy as np
import pytest

from recognition.ml import BackendSettings, InferenceBackend, create_backend, get_backend, register_backend
from recognition.ml.backends import CPU_PROVIDER, available_backends
from recognition.ml.models import find_model_pack


@pytest.fixture(scope="module")
def pack():
    return find_model_pack()


def test_registry_knows_onnxruntime_and_torch():
    assert {"onnxruntime", "torch"} <= set(available_backends())
    with pytest.raises(ValueError, match="unknown inference backend 'tensorflow'.*onnxruntime"):
        get_backend("tensorflow")


def test_custom_backend_can_be_registered_and_chosen_by_name(tmp_path):
    class Doubler(InferenceBackend):
        name = "doubler"

        def __init__(self, *, model_path, settings):
            super().__init__(max_batch_size=settings.max_batch_size)

        @property
        def providers(self):
            return ["test"]

        def _run_chunk(self, inputs):
            return [inputs * 2]

    register_backend("doubler", Doubler)
    backend = create_backend("doubler", model_path=tmp_path / "unused.onnx", settings=BackendSettings(max_batch_size=2))
    out = backend.run(np.arange(5, dtype=np.float32))
    assert out[0].tolist() == [0, 2, 4, 6, 8]


def test_cuda_request_without_cuda_warns_loudly_and_runs_on_cpu(pack, caplog):
    with caplog.at_level(logging.WARNING, logger="recognition.ml.backends"):
        backend = create_backend(
            "onnxruntime", model_path=pack.recogniser.path,
            settings=BackendSettings(providers=("CUDAExecutionProvider", CPU_PROVIDER)),
        )
    if "CUDAExecutionProvider" in backend.providers:
        pytest.skip("this host has CUDA: nothing to warn about")
    assert backend.providers == [CPU_PROVIDER]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "CUDAExecutionProvider" in warnings[0].getMessage()


def test_default_providers_end_with_cpu_and_thread_counts_are_applied(pack):
    backend = create_backend(
        "onnxruntime", model_path=pack.detector.path, settings=BackendSettings(intra_op_threads=1, inter_op_threads=1),
    )
    assert backend.providers[-1] == CPU_PROVIDER
    options = backend.session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def test_large_inputs_are_chunked_without_changing_results(pack):
    inputs = np.random.default_rng(0).uniform(-1, 1, (5, 3, 112, 112)).astype(np.float32)
    whole = create_backend("onnxruntime", model_path=pack.recogniser.path).run(inputs)[0]
    chunked = create_backend(
        "onnxruntime", model_path=pack.recogniser.path, settings=BackendSettings(max_batch_size=2)
    ).run(inputs)[0]
    assert chunked.shape == (5, 512)
    np.testing.assert_allclose(chunked, whole, rtol=1e-4, atol=1e-4)


def _torch_or_skip():
    pytest.importorskip("torch", reason="torch is not installed: the torch backend is optional")
    pytest.importorskip("onnx2torch", reason="onnx2torch is not installed: the torch backend is optional")


def test_torch_embeddings_agree_with_onnxruntime(pack, photos, engine):
    _torch_or_skip()
    from recognition.ml import FaceEmbedder
    from recognition.ml.models import inspect_recogniser

    crops = np.concatenate([f.aligned_crop[None] for f in engine.analyse([photos["t1"]], embed=False)[0]])
    spec = inspect_recogniser(pack.recogniser)
    reference = FaceEmbedder(backend=create_backend("onnxruntime", model_path=pack.recogniser.path), spec=spec,
                             model_id=pack.recogniser.model_id).embed(crops).vectors
    torch_vectors = FaceEmbedder(backend=create_backend("torch", model_path=pack.recogniser.path), spec=spec,
                                 model_id=pack.recogniser.model_id).embed(crops).vectors
    assert np.all(np.sum(reference * torch_vectors, axis=1) >= 0.999)


def test_torch_detector_finds_the_same_faces(pack, photos, engine):
    _torch_or_skip()
    from recognition.ml import FaceDetector
    from recognition.ml.models import inspect_detector

    detector = FaceDetector(backend=create_backend("torch", model_path=pack.detector.path), spec=inspect_detector(pack.detector))
    found = detector.detect([photos["t1"], photos["players"]])
    expected = engine.detector.detect([photos["t1"], photos["players"]])
    for ours, theirs in zip(found, expected, strict=True):
        assert abs(len(ours) - len(theirs)) <= 1  # fp16 may move a borderline score across the threshold
        assert np.abs(ours.boxes[:3] - theirs.boxes[:3]).max() < 2.0


def test_backend_given_a_corrupt_file_names_it(tmp_path):
    from recognition.ml import ModelFileError

    broken = tmp_path / "w600k_broken.onnx"
    broken.write_bytes(b"\x08\x07garbage")
    with pytest.raises(ModelFileError, match="w600k_broken.onnx"):
        create_backend("onnxruntime", model_path=broken)
