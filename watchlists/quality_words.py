"""The enrolment quality gate's figures (ReferenceImage.quality) in words a detective can act on.

Pure: the figures and the policy they were judged by in, sentences out. The subject page, the import report
and the API all say the same thing because they all call ``quality_summary``.
"""

from __future__ import annotations

from collections.abc import Mapping

from recognition.ml.quality import QualityPolicy

# Below these a pose or tilt is not worth mentioning as a turn.
_FRONTAL_DEG = 5.0
_UPRIGHT_ROLL_DEG = 5.0
# A face is plainly sharp, not just acceptable, at this multiple of the minimum sharpness.
_PLAINLY_SHARP_FACTOR = 2.0
# A face is "clearly" found this far above the minimum detector confidence (clean custody photos score 0.75-0.9).
_CLEAR_DETECTION_MARGIN = 0.1


def _figure(quality: Mapping, key: str) -> float | None:
    value = quality.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _pose(degrees: float, limit: float, *, turned: str, positive: str, negative: str, straight: str) -> str:
    size = abs(degrees)
    if size < _FRONTAL_DEG:
        return f"{straight} (limit {limit:.0f}°)"
    way = positive if degrees > 0 else negative
    if size > limit:
        return f"Face {turned} {size:.0f}° {way}: more than the {limit:.0f}° allowed"
    return f"Face {turned} {size:.0f}° {way} (limit {limit:.0f}°)"


def _size(quality: Mapping, policy: QualityPolicy) -> str | None:
    eyes = _figure(quality, "inter_ocular_px")
    box = face_box(quality)
    if eyes is None and box is None:
        return None
    parts = []
    if box is not None:
        parts.append(f"{box[3] - box[1]} px tall")
    if eyes is not None:
        parts.append(f"eyes {eyes:.0f} px apart (minimum {policy.min_inter_ocular_px:.0f})")
    text = ", ".join(parts)
    if eyes is not None and eyes < policy.min_inter_ocular_px:
        return f"Face too small: {text}"
    return f"Face {text}"


def _sharpness(value: float, policy: QualityPolicy) -> str:
    if value < policy.min_sharpness:
        return f"Too blurred (sharpness {value:.0f}, minimum {policy.min_sharpness:.0f})"
    if value < _PLAINLY_SHARP_FACTOR * policy.min_sharpness:
        return f"Slightly soft but acceptable (sharpness {value:.0f}, minimum {policy.min_sharpness:.0f})"
    return "Sharp"


def _detection(value: float, policy: QualityPolicy) -> str:
    if value < policy.min_det_score:
        return f"Face not clearly visible (detector {value:.0%} sure, minimum {policy.min_det_score:.0%})"
    if value < policy.min_det_score + _CLEAR_DETECTION_MARGIN:
        return f"Face found, but not clearly (detector {value:.0%} sure, minimum {policy.min_det_score:.0%})"
    return f"Face clearly visible (detector {value:.0%} sure)"


def _lighting(value: float, policy: QualityPolicy) -> str:
    if value < policy.min_brightness:
        return f"Too dark (brightness {value:.0f} of 255, minimum {policy.min_brightness:.0f})"
    if value > policy.max_brightness:
        return f"Overexposed (brightness {value:.0f} of 255, maximum {policy.max_brightness:.0f})"
    return "Well lit"


def _contrast(value: float, policy: QualityPolicy) -> str:
    if value < policy.min_contrast:
        return f"Too flat: low contrast ({value:.0f}, minimum {policy.min_contrast:.0f})"
    return "Good contrast"


def face_box(quality: Mapping) -> tuple[int, int, int, int] | None:
    """The chosen face's box (x1, y1, x2, y2) in image pixels, when enrolment stored one."""
    box = quality.get("bbox")
    if not isinstance(box, list | tuple) or len(box) != 4 or not all(isinstance(v, int | float) for v in box):
        return None
    x1, y1, x2, y2 = (int(v) for v in box)
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


def quality_summary(quality: Mapping, *, policy: QualityPolicy) -> list[str]:
    """One sentence per figure present, in the order a detective checks a photo: size, pose, sharpness, light.
    Yaw is as the photo shows it (+ = towards the right of the picture), pitch + = up."""
    if not isinstance(quality, Mapping):
        return []
    words = []
    if (size := _size(quality, policy)) is not None:
        words.append(size)
    if (yaw := _figure(quality, "yaw_deg")) is not None:
        words.append(_pose(yaw, policy.max_abs_yaw_deg, turned="turned", positive="towards the right of the photo",
                           negative="towards the left of the photo", straight="Facing the camera"))
    if (pitch := _figure(quality, "pitch_deg")) is not None:
        words.append(_pose(pitch, policy.max_abs_pitch_deg, turned="tilted", positive="up", negative="down",
                           straight="Head level"))
    if (roll := _figure(quality, "roll_deg")) is not None:
        words.append("Head upright" if abs(roll) < _UPRIGHT_ROLL_DEG else f"Head leaning {abs(roll):.0f}° sideways")
    if (sharpness := _figure(quality, "sharpness")) is not None:
        words.append(_sharpness(sharpness, policy))
    if (score := _figure(quality, "det_score")) is not None:
        words.append(_detection(score, policy))
    if (brightness := _figure(quality, "brightness")) is not None:
        words.append(_lighting(brightness, policy))
    if (contrast := _figure(quality, "contrast")) is not None:
        words.append(_contrast(contrast, policy))
    return words


def quality_figures(quality: Mapping) -> dict[str, float]:
    """The raw measurements, without the stored face box: what the API's ``quality`` shows."""
    if not isinstance(quality, Mapping):
        return {}
    return {key: value for key in quality if (value := _figure(quality, key)) is not None}


def similarity_words(score: float | None, *, threshold: float) -> str:
    """How alike a flagged image and the other subject's enrolled image are, in words."""
    if score is None:
        return "Similar to another subject's enrolled image"
    if score >= threshold + 0.2:
        strength = "Very strongly alike"
    elif score >= threshold + 0.1:
        strength = "Strongly alike"
    else:
        strength = "Alike"
    return f"{strength}: similarity {score:.2f}, where {threshold:.2f} or more is flagged as possibly the same person"
