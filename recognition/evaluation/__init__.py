"""Watchlist (open-set identification) evaluation: protocol split, metrics, CCTV degradation,
embedding cache, reports. No Django imports; ``manage.py evaluate_watchlist`` is a thin wrapper."""

from .cache import EmbeddingCache, FaceRecord
from .core import EvaluationOptions, run_evaluation
from .degrade import CctvProfile, DegradeParams, degrade_image, draw_params
from .metrics import det_curve, fpir, rank1, summarise, threshold_at_fpir, tpir, tpir_at_fpir
from .protocol import Probe, Split, build_split, split_dataset, split_identities
from .report import default_out_dir, summary_lines, write_report

__all__ = [
    "CctvProfile", "DegradeParams", "EmbeddingCache", "EvaluationOptions", "FaceRecord", "Probe", "Split",
    "build_split", "default_out_dir", "degrade_image", "det_curve", "draw_params", "fpir", "rank1", "run_evaluation",
    "split_dataset", "split_identities", "summarise", "summary_lines", "threshold_at_fpir", "tpir", "tpir_at_fpir",
    "write_report",
]
