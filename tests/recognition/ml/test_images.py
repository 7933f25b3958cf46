import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from recognition.ml import ImageDecodeError, ImageTooLargeError, decode_image


def _encode(array, fmt, **params):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **params)
    return buffer.getvalue()


def test_jpeg_and_png_decode_to_bgr_like_opencv(photo_paths):
    for name in ("t1", "tom_hanks"):
        data = photo_paths[name].read_bytes()
        ours = decode_image(data)
        expected = cv2.imread(str(photo_paths[name]), cv2.IMREAD_COLOR)
        assert ours.shape == expected.shape and ours.dtype == np.uint8
        assert np.abs(ours.astype(int) - expected).mean() < 2.0  # JPEG decoders may round differently


@pytest.mark.parametrize("data", [b"hello, this is a text file", b"%PDF-1.4 fake", bytes(range(256)) * 4])
def test_not_an_image_gives_a_clear_error(data):
    with pytest.raises(ImageDecodeError, match="^could not decode image"):
        decode_image(data)


def test_empty_bytes():
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_image(b"")


def test_truncated_jpeg_and_png(photo_paths):
    for name in ("t1", "tom_hanks"):
        data = photo_paths[name].read_bytes()
        with pytest.raises(ImageDecodeError, match="^could not decode image"):
            decode_image(data[: len(data) // 2])


def test_corrupt_png_data_stream():
    data = bytearray(_encode(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 60] = b"\xff" * 50
    with pytest.raises(ImageDecodeError, match="^could not decode image"):
        decode_image(bytes(data))


def _png_header_claiming(width, height):
    """A PNG whose header claims a huge size: decoding it fully would need gigabytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")


def test_oversized_image_is_refused_from_its_header():
    with pytest.raises(ImageTooLargeError, match="^image too large: .*40.0 megapixels"):
        decode_image(_png_header_claiming(50_000, 40_000))
    with pytest.raises(ImageTooLargeError, match="8000x6000 is 48.0 megapixels, the limit is 40.0 megapixels"):
        decode_image(_png_header_claiming(8_000, 6_000))


def test_pixel_limit_is_configurable(photo_paths):
    data = photo_paths["t1"].read_bytes()
    with pytest.raises(ImageTooLargeError, match="1280x886"):
        decode_image(data, max_pixels=1_000_000)
    assert decode_image(data, max_pixels=2_000_000).shape == (886, 1280, 3)


def test_exif_orientation_is_applied():
    rgb = np.zeros((40, 80, 3), np.uint8)
    rgb[:, :40] = (255, 0, 0)  # left half red
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes(), quality=95)
    decoded = decode_image(buffer.getvalue())
    assert decoded.shape == (80, 40, 3)
    assert decoded[5, 20, 2] > 200 and decoded[75, 20, 2] < 50  # red (BGR channel 2) now on top


def test_greyscale_rgba_and_16_bit_become_bgr():
    grey = decode_image(_encode(np.full((10, 12), 77, np.uint8), "PNG"))
    assert grey.shape == (10, 12, 3) and np.all(grey == 77)
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 2] = 200  # blue
    rgba[:, :6, 3] = 255  # left half opaque, right half transparent
    converted = decode_image(_encode(rgba, "PNG"))
    assert converted.shape == (10, 12, 3)
    assert tuple(converted[0, 0]) == (200, 0, 0) and tuple(converted[0, 11]) == (255, 255, 255)
    deep = decode_image(_encode(np.full((6, 6), 40000, np.uint16), "PNG"))
    assert deep.shape == (6, 6, 3) and deep.dtype == np.uint8


def test_rejects_non_bytes():
    with pytest.raises(TypeError):
        decode_image("t1.jpg")
