"""Decoding uploaded image bytes into BGR arrays, with clear errors and a pixel-count guard."""

from __future__ import annotations

import io
import warnings

import numpy as np

DEFAULT_MAX_PIXELS = 40_000_000


class ImageError(ValueError):
    """Base class: the bytes cannot be used as an image."""


class ImageDecodeError(ImageError):
    pass


class ImageTooLargeError(ImageError):
    pass


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode bytes (JPEG, PNG, WebP, BMP, TIFF...) into an upright HxWx3 uint8 BGR array.

    The pixel count is read from the header and checked before the pixels are decoded, so a
    small file that expands into a huge image is refused cheaply.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode_image expects bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ImageDecodeError("could not decode image: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies below
            image: Image.Image = Image.open(io.BytesIO(bytes(data)))
    except Image.DecompressionBombError as exc:  # Pillow's own hard limit (~179 megapixels) hit while reading the header
        raise ImageTooLargeError(f"image too large: {exc} The limit is {max_pixels / 1e6:.1f} megapixels.") from exc
    except UnidentifiedImageError:
        raise ImageDecodeError("could not decode image: not a recognised image format") from None
    except Exception as exc:  # a damaged header raises anything from SyntaxError to struct.error
        raise ImageDecodeError(f"could not decode image: {exc}") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"image too large: {width}x{height} is {width * height / 1e6:.1f} megapixels, "
            f"the limit is {max_pixels / 1e6:.1f} megapixels"
        )
    if width == 0 or height == 0:
        raise ImageDecodeError("could not decode image: it has no pixels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked against max_pixels above
            image.load()
        image = ImageOps.exif_transpose(image)
        rgb = _to_rgb(image)
    except Exception as exc:  # truncated ("image file is truncated"), corrupt data streams
        raise ImageDecodeError(f"could not decode image: {exc}") from exc
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _to_rgb(image) -> np.ndarray:
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        grey = np.asarray(image, dtype=np.float64)
        top = grey.max()
        grey = (grey * (255.0 / top) if top > 255 else grey).clip(0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas become white, as a viewer would show them, not whatever colour they hide.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def ensure_bgr(frame: np.ndarray) -> np.ndarray:
    """Accept an already-decoded frame: HxWx3 BGR as is, greyscale and BGRA converted."""
    import cv2

    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 numpy images, got {getattr(frame, 'dtype', type(frame).__name__)}")
    if frame.ndim == 2 and frame.size:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4 and frame.size:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3 and frame.size:
        return frame
    raise ValueError(f"frames must be non-empty HxWx3 BGR images, got shape {frame.shape}")
