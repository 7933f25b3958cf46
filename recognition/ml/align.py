"""5-point similarity alignment to the ArcFace 112x112 template (as insightface's norm_crop)."""

from __future__ import annotations

import cv2
import numpy as np

ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def umeyama_similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation mapping source points onto target; (2, 3)."""
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centred, target_centred = source - source_mean, target - target_mean
    covariance = target_centred.T @ source_centred / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    reflection = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        reflection[1, 1] = -1
    rotation = u @ reflection @ vt
    variance = (source_centred**2).sum() / len(source)
    scale = (singular * np.diag(reflection)).sum() / variance if variance > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = target_mean - matrix[:, :2] @ source_mean
    return matrix


def alignment_matrix(landmarks: np.ndarray, *, image_size: int = 112) -> np.ndarray:
    if image_size % 112:
        raise ValueError("image_size must be a multiple of 112 (the ArcFace template)")
    return umeyama_similarity(landmarks, ARCFACE_TEMPLATE_112 * (image_size / 112.0))


def align_face(frame: np.ndarray, landmarks: np.ndarray, *, image_size: int = 112) -> np.ndarray:
    matrix = alignment_matrix(np.asarray(landmarks).reshape(5, 2), image_size=image_size)
    return cv2.warpAffine(frame, matrix, (image_size, image_size), borderValue=0.0)


def align_faces(frame: np.ndarray, landmarks: np.ndarray, *, image_size: int = 112) -> np.ndarray:
    """Aligned crops (N, size, size, 3) uint8 for every face's (5, 2) landmarks in one frame."""
    landmarks = np.asarray(landmarks).reshape(-1, 5, 2)
    crops = np.zeros((len(landmarks), image_size, image_size, 3), dtype=np.uint8)
    for index, points in enumerate(landmarks):
        crops[index] = align_face(frame, points, image_size=image_size)
    return crops
