"""How a face image leaves the server: one content-type rule and one response, for every image view and API.

The type comes from the bytes, never from a name or an upload's claim: JPEG, PNG, GIF and WebP by their
magic bytes, anything else ``application/octet-stream`` and an attachment, so a browser never renders
stored bytes as anything but one of those four (with ``X-Content-Type-Options: nosniff``, it does not guess
either). Faces are personal data: no browser or proxy keeps a copy (``no-store, private`` and the
HTTP/1.0 ``Pragma``). The reads themselves, permission-checked and audited, are the services'.
"""

from __future__ import annotations

from django.http import HttpResponse

OCTET_STREAM = "application/octet-stream"

# (offset, magic) pairs per type: every pair must match.
_SIGNATURES: tuple[tuple[str, tuple[tuple[int, bytes], ...]], ...] = (
    ("image/jpeg", ((0, b"\xff\xd8\xff"),)),
    ("image/png", ((0, b"\x89PNG\r\n\x1a\n"),)),
    ("image/gif", ((0, b"GIF87a"),)),
    ("image/gif", ((0, b"GIF89a"),)),
    ("image/webp", ((0, b"RIFF"), (8, b"WEBP"))),
)

IMAGE_TYPES = tuple(dict.fromkeys(kind for kind, _ in _SIGNATURES))  # what image_content_type may answer


def image_content_type(data: bytes) -> str:
    """The type of an image by its first bytes: JPEG, PNG, GIF or WebP; anything else application/octet-stream."""
    for kind, parts in _SIGNATURES:
        if all(data[offset:offset + len(magic)] == magic for offset, magic in parts):
            return kind
    return OCTET_STREAM


def no_store(response: HttpResponse) -> HttpResponse:
    """Headers for a response that holds personal data: no browser or proxy keeps it, nothing sniffs its type."""
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def image_response(data: bytes, *, filename: str) -> HttpResponse:
    """The image's bytes with their type (image_content_type): shown inline when they are one of the image
    types, an attachment otherwise; never cached, never sniffed."""
    content_type = image_content_type(data)
    response = HttpResponse(data, content_type=content_type)
    disposition = "attachment" if content_type == OCTET_STREAM else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return no_store(response)


FACE_MARGIN = 0.4  # of the face box's larger side, around it on every side: hair, chin and ears stay in view


def face_crop(data: bytes, box: tuple[float, float, float, float] | None) -> bytes:
    """A square JPEG around the face box (x1, y1, x2, y2 in the image's pixels), for a card that shows the face
    large; the whole image when there is no box, or the box or the image cannot be used. Nothing is detected
    here: the box is the one enrolment measured."""
    if box is None:
        return data
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    x1, y1, x2, y2 = box
    if image is None or not (x2 > x1 and y2 > y1):
        return data
    height, width = image.shape[:2]
    half = max(x2 - x1, y2 - y1) * (0.5 + FACE_MARGIN)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    # A square, centred on the face unless that would leave the image: then moved inside it.
    side = min(round(2 * half), width, height)
    left = min(max(0, round(cx - half)), width - side)
    top = min(max(0, round(cy - half)), height - side)
    if side < 8:
        return data
    ok, encoded = cv2.imencode(".jpg", image[top:top + side, left:left + side], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return encoded.tobytes() if ok else data
