"""Batched ArcFace embeddings of aligned 112x112 crops: L2-normalised float32 vectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .backends import InferenceBackend
from .models import RecogniserSpec


@dataclass(frozen=True)
class EmbeddingBatch:
    vectors: np.ndarray  # (N, D) float32, unit length
    model_id: str  # the recogniser that produced them; vectors from different models never compare

    def __len__(self) -> int:
        return len(self.vectors)


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class FaceEmbedder:
    def __init__(self, *, backend: InferenceBackend, spec: RecogniserSpec, model_id: str, flip: bool = False) -> None:
        self.backend = backend
        self.spec = spec
        self.model_id = model_id
        self.flip = flip

    @property
    def dimension(self) -> int:
        return self.spec.embedding_size

    def embed(self, crops: np.ndarray | Sequence[np.ndarray], *, flip: bool | None = None) -> EmbeddingBatch:
        """Embed aligned BGR uint8 crops (N, S, S, 3).

        ``flip`` (default: the embedder's setting) also embeds each mirrored crop and sums the two
        vectors before normalising, which smooths out pose asymmetry at twice the compute.
        """
        crops = np.asarray(crops)
        if crops.size == 0:
            return EmbeddingBatch(np.zeros((0, self.dimension), np.float32), self.model_id)
        if crops.ndim == 3:
            crops = crops[None]
        size = self.spec.input_size
        if crops.shape[1:] != (size, size, 3):
            raise ValueError(f"crops must be aligned BGR images of shape (N, {size}, {size}, 3), got {crops.shape}")
        use_flip = self.flip if flip is None else flip
        if use_flip:
            crops = np.concatenate([crops, crops[:, :, ::-1]])
        mean, std = self.spec.input_mean, self.spec.input_std
        blob = cv2.dnn.blobFromImages(list(np.ascontiguousarray(crops)), 1.0 / std, (size, size), (mean, mean, mean), swapRB=True)
        vectors = self.backend.run(blob)[0].astype(np.float32)
        if use_flip:
            half = len(vectors) // 2
            vectors = vectors[:half] + vectors[half:]
        return EmbeddingBatch(l2_normalise(vectors), self.model_id)
