"""What a street camera makes of a face: small, soft and compressed ("cctv" probe degradation).

Applied to probe images only; the gallery stays custody-quality. Steps, per image:

1. downscale (area interpolation) so the eyes are ``target_inter_ocular_px`` apart, drawn uniformly
   from the profile's range (faces already smaller are left at their size);
2. Gaussian blur with a sigma drawn from the profile's range, at that small scale (optics, focus,
   motion, the camera's own scaler);
3. JPEG round trip at a quality drawn from the profile's range (stream compression);
4. the result is kept small, as the live pipeline sees it: the detector letterboxes the whole camera
   frame and the aligner warps the face from the frame's native pixels, so no detail is ever added
   back. (``upscale=True`` restores the original size instead, for comparison.)

Each image's draw is seeded by (seed, image key), so it does not depend on the order of processing
and the cache can key on it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

# LFW deep-funneled 250x250 crops have the eyes ~42 px apart: 0.17 of the image side. Used only when
# the clean image showed no face to measure.
FALLBACK_INTER_OCULAR_FRACTION = 0.17


@dataclass(frozen=True)
class CctvProfile:
    inter_ocular_px: tuple[float, float] = (24.0, 40.0)
    blur_sigma: tuple[float, float] = (0.6, 1.2)
    jpeg_quality: tuple[int, int] = (30, 50)
    upscale: bool = False
    version: int = 1  # bump when the steps change, so cached embeddings are not reused

    def key(self, seed: int) -> str:
        """Identifies every cached degraded embedding made with this profile and seed."""
        io, blur, quality = self.inter_ocular_px, self.blur_sigma, self.jpeg_quality
        return (f"cctv-v{self.version}:io{io[0]:g}-{io[1]:g}:blur{blur[0]:g}-{blur[1]:g}:q{quality[0]}-{quality[1]}"
                f":{'upscaled' if self.upscale else 'small'}:seed{seed}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DegradeParams:
    target_inter_ocular_px: float
    blur_sigma: float
    jpeg_quality: int


def draw_params(profile: CctvProfile, *, seed: int, image_key: str) -> DegradeParams:
    """The random draw for one image; ``image_key`` is a stable name for it (its sha256 hex)."""
    salt = int(hashlib.sha256(image_key.encode()).hexdigest()[:16], 16)
    rng = np.random.default_rng([int(seed), salt])
    io = float(rng.uniform(*profile.inter_ocular_px))
    sigma = float(rng.uniform(*profile.blur_sigma))
    quality = int(rng.integers(profile.jpeg_quality[0], profile.jpeg_quality[1] + 1))
    return DegradeParams(io, sigma, quality)


def degrade_image(image: np.ndarray, *, inter_ocular_px: float | None, params: DegradeParams,
                  upscale: bool = False) -> tuple[np.ndarray, dict]:
    """Degrade a BGR uint8 image whose face has its eyes ``inter_ocular_px`` apart (None: estimated
    from the image size). Returns the image and what was applied."""
    height, width = image.shape[:2]
    estimated = inter_ocular_px is None or not math.isfinite(inter_ocular_px) or inter_ocular_px <= 0
    source_io = FALLBACK_INTER_OCULAR_FRACTION * min(height, width) if estimated else float(inter_ocular_px)
    scale = min(1.0, params.target_inter_ocular_px / source_io)
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA) if scale < 1.0 else image.copy()
    if params.blur_sigma > 0:
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=params.blur_sigma, sigmaY=params.blur_sigma)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(params.jpeg_quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    degraded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    if upscale and degraded.shape[:2] != (height, width):
        degraded = cv2.resize(degraded, (width, height), interpolation=cv2.INTER_LINEAR)
    applied = {
        "source_inter_ocular_px": round(source_io, 2), "source_inter_ocular_estimated": estimated,
        "scale": round(scale, 4), "inter_ocular_px": round(source_io * scale, 2),
        "blur_sigma": round(params.blur_sigma, 3), "jpeg_quality": int(params.jpeg_quality),
        "jpeg_bytes": int(len(encoded)), "size": [int(degraded.shape[1]), int(degraded.shape[0])],
    }
    return degraded, applied
