"""Face image quality: measurements, a scalar score for picking a best frame, and refusal policy."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Anthropometric ratios for the rough pose model: nose-tip depth in front of the eye plane,
# relative to half the inter-ocular distance (yaw) and to the eye-to-mouth height (pitch).
_NOSE_DEPTH_OVER_HALF_EYE_GAP = 1.0
_NOSE_DEPTH_OVER_EYE_MOUTH_HEIGHT = 0.45
# Where the nose tip sits between the eye line (0) and the mouth line (1) on a frontal face (ArcFace template).
_FRONTAL_NOSE_HEIGHT = 0.495
# Sharpness at which a crop counts as fully sharp for the scalar score.
_SHARP_REFERENCE = 150.0


@dataclass(frozen=True)
class FaceQuality:
    inter_ocular_px: float  # distance between the eye centres in the original image
    det_score: float
    sharpness: float  # variance of the Laplacian of the aligned grey crop
    yaw_deg: float  # + = face turned towards image right
    pitch_deg: float  # + = face tilted up
    roll_deg: float  # in-plane tilt of the eye line (alignment removes it)
    brightness: float  # mean grey level of the aligned face region, 0..255
    contrast: float  # standard deviation of that grey level

    @property
    def score(self) -> float:
        """0..1, higher is better: for a tracker picking the best frame, not a pass/fail test."""
        size = min(1.0, self.inter_ocular_px / 60.0)
        sharp = min(1.0, self.sharpness / _SHARP_REFERENCE)
        pose = max(0.0, math.cos(math.radians(self.yaw_deg))) * max(0.0, math.cos(math.radians(self.pitch_deg)))
        return float(self.det_score * (0.25 + 0.75 * size) * (0.5 + 0.5 * sharp) * pose**2)


def estimate_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Rough (yaw, pitch, roll) in degrees from 5 landmarks: eyes, nose, mouth corners."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eye_a, eye_b, nose, mouth_a, mouth_b = points
    eye_vector = eye_b - eye_a
    roll = math.atan2(eye_vector[1], eye_vector[0])
    # Rotate so the eye line is horizontal, then read the nose offset in that frame.
    cos_r, sin_r = math.cos(-roll), math.sin(-roll)
    rotation = np.array([[cos_r, -sin_r], [sin_r, cos_r]])
    eye_mid = (eye_a + eye_b) / 2
    eye_a, eye_b, nose, mouth_mid = ((p - eye_mid) @ rotation.T for p in (eye_a, eye_b, nose, (mouth_a + mouth_b) / 2))
    half_eye_gap = max(abs(eye_b[0] - eye_a[0]) / 2, 1e-6)
    yaw = math.atan(nose[0] / half_eye_gap / _NOSE_DEPTH_OVER_HALF_EYE_GAP)
    eye_mouth_height = max(mouth_mid[1], 1e-6)
    nose_height = nose[1] / eye_mouth_height
    pitch = math.atan((_FRONTAL_NOSE_HEIGHT - nose_height) / _NOSE_DEPTH_OVER_EYE_MOUTH_HEIGHT)
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def assess_face(*, landmarks: np.ndarray, det_score: float, aligned_crop: np.ndarray) -> FaceQuality:
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    grey = cv2.cvtColor(aligned_crop, cv2.COLOR_BGR2GRAY) if aligned_crop.ndim == 3 else aligned_crop
    size = grey.shape[0]
    # Inner face region of the 112 template (eyebrows to chin, cheek to cheek): avoids background and
    # the black border that warping adds for faces at the frame edge.
    face_region = grey[int(size * 0.25) : int(size * 0.92), int(size * 0.2) : int(size * 0.8)]
    yaw, pitch, roll = estimate_pose(points)
    return FaceQuality(
        inter_ocular_px=float(np.linalg.norm(points[1] - points[0])),
        det_score=float(det_score),
        sharpness=float(cv2.Laplacian(face_region, cv2.CV_64F).var()),
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        brightness=float(face_region.mean()),
        contrast=float(face_region.std()),
    )


@dataclass(frozen=True)
class QualityPolicy:
    """Thresholds a face must meet; the defaults are the enrolment (reference image) standard."""

    min_inter_ocular_px: float = 30.0
    min_det_score: float = 0.6
    min_sharpness: float = 40.0
    max_abs_yaw_deg: float = 35.0
    max_abs_pitch_deg: float = 30.0
    min_brightness: float = 40.0
    max_brightness: float = 220.0
    min_contrast: float = 15.0

    @classmethod
    def live(cls) -> QualityPolicy:
        """Looser standard for probe faces from cameras: small, softer faces still get embedded."""
        return cls(min_inter_ocular_px=12.0, min_det_score=0.5, min_sharpness=10.0, max_abs_yaw_deg=45.0,
                   max_abs_pitch_deg=40.0, min_brightness=25.0, max_brightness=235.0, min_contrast=8.0)

    def refusal_reasons(self, quality: FaceQuality) -> list[str]:
        reasons = []
        if quality.inter_ocular_px < self.min_inter_ocular_px:
            reasons.append(f"face too small: {quality.inter_ocular_px:.0f} px between the eyes, "
                           f"need at least {self.min_inter_ocular_px:.0f}")
        if quality.det_score < self.min_det_score:
            reasons.append(f"face not clearly visible: detector confidence {quality.det_score:.2f}, "
                           f"need at least {self.min_det_score:.2f}")
        if quality.sharpness < self.min_sharpness:
            reasons.append(f"face too blurred: sharpness {quality.sharpness:.0f}, need at least {self.min_sharpness:.0f}")
        if abs(quality.yaw_deg) > self.max_abs_yaw_deg:
            reasons.append(f"face turned too far sideways: about {abs(quality.yaw_deg):.0f} degrees, "
                           f"at most {self.max_abs_yaw_deg:.0f} allowed")
        if abs(quality.pitch_deg) > self.max_abs_pitch_deg:
            reasons.append(f"face tilted too far up or down: about {abs(quality.pitch_deg):.0f} degrees, "
                           f"at most {self.max_abs_pitch_deg:.0f} allowed")
        if quality.brightness < self.min_brightness:
            reasons.append(f"face too dark: brightness {quality.brightness:.0f}, need at least {self.min_brightness:.0f} of 255")
        if quality.brightness > self.max_brightness:
            reasons.append(f"face overexposed: brightness {quality.brightness:.0f}, "
                           f"at most {self.max_brightness:.0f} of 255 allowed")
        if quality.contrast < self.min_contrast:
            reasons.append(f"face too flat (low contrast): {quality.contrast:.0f}, need at least {self.min_contrast:.0f}")
        return reasons

    def accepts(self, quality: FaceQuality) -> bool:
        return not self.refusal_reasons(quality)
