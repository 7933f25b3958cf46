"""Face-recognition engine: model packs, backends, detection, alignment, embedding, quality,
watchlist matching and tracking. Pure Python + numpy/OpenCV/onnxruntime; no Django imports."""

from .align import align_face, align_faces
from .backends import BackendSettings, InferenceBackend, create_backend, get_backend, register_backend
from .detector import Detections, FaceDetector
from .embedder import EmbeddingBatch, FaceEmbedder
from .engine import EngineConfig, Face, FaceEngine, SingleFaceOutcome, SingleFaceResult
from .images import ImageDecodeError, ImageError, ImageTooLargeError, decode_image
from .matcher import Match, WatchlistMatcher
from .models import ModelFileError, ModelPack, find_model_pack
from .quality import FaceQuality, QualityPolicy, assess_face
from .tracker import FaceTracker, Track, TrackerUpdate

__all__ = [
    "BackendSettings", "Detections", "EmbeddingBatch", "EngineConfig", "Face", "FaceDetector", "FaceEmbedder",
    "FaceEngine", "FaceQuality", "FaceTracker", "ImageDecodeError", "ImageError", "ImageTooLargeError",
    "InferenceBackend", "Match", "ModelFileError", "ModelPack", "QualityPolicy", "SingleFaceOutcome",
    "SingleFaceResult", "Track", "TrackerUpdate", "WatchlistMatcher", "align_face", "align_faces",
    "assess_face", "create_backend", "decode_image", "find_model_pack", "get_backend", "register_backend",
]
