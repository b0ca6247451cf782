"""Safe image decoding: sniffed formats, size and pixel limits, EXIF orientation."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from faceatlas.errors import ImageDecodeError, ImageTooLargeError, UnsupportedImageError
from faceatlas.types import RGBImage

__all__ = ["ACCEPTED_FORMATS", "DecodedImage", "decode_image", "sniff_format"]

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF"})
"""Pillow format names accepted; GIF and multi-frame files give their first frame."""
_ORIENTATION = 0x0112
"""The EXIF orientation tag."""


class DecodedImage:
    """An upright RGB image with the format it was decoded from."""

    __slots__ = ("format", "pixels")

    def __init__(self, pixels: RGBImage, format: str) -> None:
        self.pixels = pixels
        self.format = format

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name of ``data`` read from its header, or ``None``."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.format
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def decode_image(
    data: bytes, *, max_pixels: int, max_bytes: int | None = None, fit_pixels: int | None = None
) -> DecodedImage:
    """Decode ``data`` into an upright RGB ``uint8`` array of shape ``(h, w, 3)``.

    ``fit_pixels`` shrinks a larger image to about that many pixels while decoding (a JPEG
    is decoded at a reduced scale, which costs a fraction of a full decode), for callers that
    need the face, not the detail: a selfie's face fills much of the frame.

    The header is checked against ``max_pixels`` before any pixel is decoded,
    so a decompression bomb costs nothing. Raises :class:`ImageTooLargeError`,
    :class:`UnsupportedImageError` or :class:`ImageDecodeError`; never
    anything else for bad bytes.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise ImageTooLargeError(f"file is {len(data)} bytes, limit is {max_bytes}")
    if not data:
        raise ImageDecodeError("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format or "unknown"
            if fmt not in ACCEPTED_FORMATS:
                raise UnsupportedImageError(f"image format {fmt} is not accepted")
            width, height = img.size
            if width <= 0 or height <= 0:
                raise ImageDecodeError("image has no pixels")
            if width * height > max_pixels:
                raise ImageTooLargeError(
                    f"image is {width}x{height} = {width * height} pixels, limit is {max_pixels}"
                )
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)
            if fit_pixels is not None and width * height > fit_pixels:
                img.draft("RGB", _fitted(img.size, fit_pixels))  # JPEG: 1/2, 1/4 or 1/8 scale
            img.load()
            loaded: Image.Image = img
            if fit_pixels is not None and loaded.width * loaded.height > fit_pixels:
                loaded = loaded.resize(_fitted(loaded.size, fit_pixels), Image.Resampling.BILINEAR)
            upright = ImageOps.exif_transpose(loaded) if _turned(loaded) else loaded
            if upright.width * upright.height > max_pixels:
                raise ImageTooLargeError("image exceeds the pixel limit after orientation")
            rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
            pixels = np.asarray(rgb, dtype=np.uint8)
    except (ImageDecodeError, ImageTooLargeError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError(
            f"image has more pixels than the limit of {max_pixels} (decompression-bomb guard)"
        ) from None
    except UnidentifiedImageError:
        raise ImageDecodeError("not a recognised image file") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageDecodeError(f"corrupt or truncated image: {exc}") from None
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ImageDecodeError("image did not decode to three channels")
    return DecodedImage(np.ascontiguousarray(pixels), fmt)


def _turned(img: Image.Image) -> bool:
    """Whether the EXIF orientation asks for the pixels to be turned or flipped (an image
    without one is used as decoded, not copied)."""
    return img.getexif().get(_ORIENTATION, 1) not in (0, 1)


def _fitted(size: tuple[int, int], pixels: int) -> tuple[int, int]:
    """``size`` scaled, shape kept, to about ``pixels`` pixels."""
    width, height = size
    scale = (pixels / (width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))
