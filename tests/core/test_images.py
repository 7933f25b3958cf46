"""core.images: one content-type rule for every face image the portal serves, and one response."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.images import OCTET_STREAM, image_content_type, image_response


def _encoded(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 90, 60)).save(buffer, format=format)
    return buffer.getvalue()


@pytest.mark.parametrize("format, expected", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"),
                                              ("WEBP", "image/webp")])
def test_the_four_image_types_are_known_by_their_bytes(format, expected):
    assert image_content_type(_encoded(format)) == expected


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xd8", id="jpeg-cut-short"),
    pytest.param(b"GIF8not-a-gif", id="gif-without-its-version"),
    pytest.param(b"RIFF\x00\x00\x00\x00WAVEfmt ", id="riff-but-not-webp"),
    pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", id="svg"),
    pytest.param(b"<html><script>alert(1)</script>", id="html"),
])
def test_anything_else_is_an_octet_stream(data):
    assert image_content_type(data) == OCTET_STREAM


@pytest.mark.parametrize("format", ["BMP", "TIFF"])
def test_other_image_formats_are_not_served_as_images(format):
    assert image_content_type(_encoded(format)) == OCTET_STREAM


def test_an_image_is_shown_inline_never_cached_never_sniffed():
    data = _encoded("PNG")
    response = image_response(data, filename="reference-7")
    assert response.content == data and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="reference-7"'
    assert response["Cache-Control"] == "no-store, private" and response["Pragma"] == "no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_bytes_of_no_known_type_are_an_attachment():
    response = image_response(b"<html>", filename="reference-7")
    assert response["Content-Type"] == OCTET_STREAM
    assert response["Content-Disposition"] == 'attachment; filename="reference-7"'
    assert response["Cache-Control"] == "no-store, private" and response["X-Content-Type-Options"] == "nosniff"


def _jpeg(width: int, height: int) -> bytes:
    import cv2
    import numpy as np

    return cv2.imencode(".jpg", np.full((height, width, 3), 128, dtype=np.uint8))[1].tobytes()


def _size(data: bytes) -> tuple[int, int]:
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return image.shape[1], image.shape[0]


def test_face_crop_is_a_square_around_the_box_and_stays_inside_the_image():
    from core.images import face_crop

    data = _jpeg(400, 300)
    assert _size(face_crop(data, (180, 130, 220, 170))) == (72, 72)  # 40 px face, 40% margin each side
    assert _size(face_crop(data, (0, 0, 100, 100))) == (180, 180)  # at the edge: moved inside the image
    assert _size(face_crop(data, (0, 0, 300, 300))) == (300, 300)  # no larger than the image
    assert face_crop(data, None) == data  # no stored box: the whole image, nothing detected
    assert face_crop(data, (200, 200, 100, 100)) == data  # not a box
    assert face_crop(b"not an image", (0, 0, 10, 10)) == b"not an image"
