"""A reference image with one face outlined: which face of a group photo was enrolled."""

from __future__ import annotations

import cv2

from recognition.ml.images import decode_image

_OUTLINE_BGR = (0, 215, 255)  # amber: stands out on skin, hair and the usual custody-photo backgrounds


def outline_face(data: bytes, box: tuple[int, int, int, int], *, max_pixels: int) -> bytes:
    """The image (decoded upright, as enrolment saw it) as a JPEG with ``box`` (x1, y1, x2, y2) drawn on it."""
    pixels = decode_image(data, max_pixels=max_pixels).copy()
    height, width = pixels.shape[:2]
    thickness = max(2, round(max(height, width) / 250))
    x1, y1, x2, y2 = box
    cv2.rectangle(pixels, (x1, y1), (min(x2, width - 1), min(y2, height - 1)), _OUTLINE_BGR, thickness)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise ValueError("the outlined image could not be encoded")
    return encoded.tobytes()
