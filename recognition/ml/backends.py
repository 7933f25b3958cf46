"""Inference backends: one interface, chosen by name.

``onnxruntime`` runs everywhere (CPU here, CUDAExecutionProvider with onnxruntime-gpu).
``torch`` converts the ONNX graph with onnx2torch and runs fp16 on CUDA; it serves GPU hosts
with PyTorch but no onnxruntime-gpu and is the faster path for large batches.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models import HOW_TO_SUPPLY, ModelFileError

logger = logging.getLogger(__name__)

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


@dataclass(frozen=True)
class BackendSettings:
    # onnxruntime provider names in priority order; None = CUDA first when available, then CPU.
    # The torch backend reads them too: CUDAExecutionProvider first means device "cuda".
    providers: tuple[str, ...] | None = None
    intra_op_threads: int | None = None  # None = every core (os.cpu_count())
    inter_op_threads: int = 1
    max_batch_size: int = 256  # larger inputs are split into chunks of this size
    device: str | None = None  # torch only: "cuda", "cuda:1", "cpu"; overrides providers
    half_precision: bool | None = None  # torch only: None = fp16 on CUDA, fp32 on CPU


class InferenceBackend(ABC):
    """Runs one ONNX graph with a single NCHW input on a batch and returns every output."""

    name: str = ""

    @property
    @abstractmethod
    def providers(self) -> list[str]:
        """Where it actually runs (onnxruntime provider names or torch devices)."""

    @abstractmethod
    def _run_chunk(self, inputs: np.ndarray) -> list[np.ndarray]: ...

    def __init__(self, *, max_batch_size: int) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self.max_batch_size = max_batch_size

    def run(self, inputs: np.ndarray) -> list[np.ndarray]:
        if len(inputs) <= self.max_batch_size:
            return self._run_chunk(inputs)
        chunks = [self._run_chunk(inputs[i : i + self.max_batch_size]) for i in range(0, len(inputs), self.max_batch_size)]
        return [np.concatenate(parts) for parts in zip(*chunks, strict=True)]


BackendFactory = Callable[..., InferenceBackend]
_REGISTRY: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """``factory(*, model_path: Path, settings: BackendSettings) -> InferenceBackend``."""
    _REGISTRY[name] = factory


def get_backend(name: str) -> BackendFactory:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown inference backend {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def available_backends() -> list[str]:
    return sorted(_REGISTRY)


def create_backend(name: str, *, model_path: str | Path, settings: BackendSettings | None = None) -> InferenceBackend:
    return get_backend(name)(model_path=Path(model_path), settings=settings or BackendSettings())


def _intra_threads(settings: BackendSettings) -> int:
    return settings.intra_op_threads if settings.intra_op_threads else max(1, os.cpu_count() or 1)


def choose_onnxruntime_providers(requested: tuple[str, ...] | None, available: list[str]) -> list[str]:
    if requested is None:
        return [CUDA_PROVIDER, CPU_PROVIDER] if CUDA_PROVIDER in available else [CPU_PROVIDER]
    chosen = [p for p in requested if p in available]
    missing = [p for p in requested if p not in available]
    if missing:
        logger.warning(
            "WARNING: onnxruntime providers %s were requested but this onnxruntime offers only %s; "
            "running on %s instead. Install onnxruntime-gpu (and CUDA/cuDNN) for GPU inference.",
            missing, available, chosen or [CPU_PROVIDER],
        )
    if CPU_PROVIDER not in chosen:
        chosen.append(CPU_PROVIDER)
    return chosen


def _model_bytes_with_dynamic_batch(model_path: Path) -> bytes:
    """Serialise the graph with symbolic batch dims on its outputs.

    w600k_mbf.onnx declares its output (and intermediate value_info) at batch 1 although it computes
    any batch; onnxruntime then logs a shape-mismatch warning on every batched call.
    """
    import onnx

    model = onnx.load_model(str(model_path))
    inputs = model.graph.input[0].type.tensor_type.shape.dim
    if inputs and not inputs[0].dim_value:
        del model.graph.value_info[:]  # stale intermediate shape hints recorded at batch 1
        for output in model.graph.output:
            dims = output.type.tensor_type.shape.dim
            if dims and dims[0].dim_value:
                dims[0].ClearField("dim_value")
                dims[0].dim_param = "batch"
    return model.SerializeToString()


class OnnxRuntimeBackend(InferenceBackend):
    name = "onnxruntime"

    def __init__(self, *, model_path: Path, settings: BackendSettings) -> None:
        super().__init__(max_batch_size=settings.max_batch_size)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = _intra_threads(settings)
        options.inter_op_num_threads = settings.inter_op_threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = choose_onnxruntime_providers(settings.providers, ort.get_available_providers())
        if CUDA_PROVIDER not in providers:
            # Idle intra-op threads spin by default: on a small CPU they steal the cores the frame
            # decoder and numpy matching need between two inference calls.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if CUDA_PROVIDER in providers:
            from insightface.model_zoo.onnxruntime_utils import preload_cuda_libraries

            preload_cuda_libraries(providers)  # finds CUDA/cuDNN shipped as pip wheels (nvidia-*)
        try:
            model_bytes = _model_bytes_with_dynamic_batch(model_path)
            self.session = ort.InferenceSession(model_bytes, sess_options=options, providers=providers)
        except Exception as exc:
            raise ModelFileError(f"onnxruntime cannot load model file {model_path}: {exc}. {HOW_TO_SUPPLY}") from exc
        active = self.session.get_providers()
        if providers[0] != active[0]:
            logger.warning("WARNING: onnxruntime could not start %s for %s; running on %s", providers[0], model_path.name, active)
        self.model_path = model_path
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def _run_chunk(self, inputs: np.ndarray) -> list[np.ndarray]:
        return self.session.run(self.output_names, {self.input_name: np.ascontiguousarray(inputs, dtype=np.float32)})


class TorchBackend(InferenceBackend):
    """ONNX graph converted to PyTorch with onnx2torch (imported lazily: optional dependency)."""

    name = "torch"

    def __init__(self, *, model_path: Path, settings: BackendSettings) -> None:
        super().__init__(max_batch_size=settings.max_batch_size)
        import onnx
        import onnx2torch
        import torch

        self._torch = torch
        self.device = torch.device(self._choose_device(settings, torch))
        on_cuda = self.device.type == "cuda"
        self.half = on_cuda if settings.half_precision is None else settings.half_precision
        if not on_cuda:
            torch.set_num_threads(_intra_threads(settings))
        module = onnx2torch.convert(onnx.load_model(str(model_path))).eval().to(self.device)
        self.module = module.half() if self.half else module
        self.model_path = model_path

    @staticmethod
    def _choose_device(settings: BackendSettings, torch) -> str:
        if settings.device is not None:
            wanted, asked_explicitly = settings.device, True
        elif settings.providers is None:
            wanted, asked_explicitly = "cuda", False
        else:
            asked_explicitly = CUDA_PROVIDER in settings.providers
            wanted = "cuda" if asked_explicitly else "cpu"
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            if asked_explicitly:
                logger.warning("WARNING: CUDA was requested for the torch backend but torch.cuda is not available; "
                               "running on CPU")
            wanted = "cpu"
        return wanted

    @property
    def providers(self) -> list[str]:
        return [str(self.device)]

    def _run_chunk(self, inputs: np.ndarray) -> list[np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            batch = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)).to(self.device, non_blocking=True)
            outputs = self.module(batch.half() if self.half else batch)
            if isinstance(outputs, torch.Tensor):
                outputs = (outputs,)
            return [o.float().cpu().numpy() for o in outputs]


register_backend(OnnxRuntimeBackend.name, OnnxRuntimeBackend)
register_backend(TorchBackend.name, TorchBackend)
