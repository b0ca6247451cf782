"""Perceptual hashes that fold resized and re-encoded copies of an image into one.

The hash is the classic DCT pHash: grey, 32x32, 2-D DCT-II, the 8x8 lowest
frequencies compared with their median, 64 bits. Copies that differ only by
scale or JPEG quality land within a few bits; distinct photos, even of the
same person in the same pose, almost never do. A match must also have the
same aspect ratio (within 3%), so a crop is never folded into its original.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from faceatlas.types import record

__all__ = ["NearDuplicateIndex", "PerceptualHash", "hamming", "perceptual_hash"]

_SIDE = 32
_LOW = 8
_ASPECT_TOLERANCE = 0.03


def _dct_matrix(n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return np.asarray(m, dtype=np.float64)


_DCT = _dct_matrix(_SIDE)


@record
class PerceptualHash:
    """``bits`` is the 64-bit hash as a signed int64 (how the catalog stores it)."""

    bits: int
    width: int
    height: int


def perceptual_hash(data: bytes, *, max_pixels: int) -> PerceptualHash | None:
    """The pHash of encoded image bytes, or ``None`` when they do not decode.

    JPEGs are decoded at reduced scale (``draft``), so this costs a fraction
    of a full decode. ``max_pixels`` guards against decompression bombs.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    return None
                transpose = img.getexif().get(0x0112, 1) in (5, 6, 7, 8)
                img.draft("L", (_SIDE * 2, _SIDE * 2))
                grey = ImageOps.exif_transpose(img).convert("L")
                small = grey.resize((_SIDE, _SIDE), Image.Resampling.LANCZOS)
    except Exception:  # any undecodable input: the analysis step reports the real error
        return None
    if transpose:
        width, height = height, width
    pixels = np.asarray(small, dtype=np.float64)
    low = (_DCT @ pixels @ _DCT.T)[:_LOW, :_LOW].ravel()
    bits = low > np.median(low)
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    if value >= 1 << 63:
        value -= 1 << 64
    return PerceptualHash(bits=value, width=width, height=height)


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


class NearDuplicateIndex:
    """Every stored image's hash in memory (8 bytes + ratio each), searched exhaustively.

    One search over a million images is a few milliseconds of vectorised XOR
    and popcount, far below the cost of analysing one image.
    """

    def __init__(self, max_bits: int) -> None:
        self.max_bits = max_bits
        self._n = 0
        self._ids = np.zeros(1024, dtype=np.int64)
        self._bits = np.zeros(1024, dtype=np.uint64)
        self._ratios = np.zeros(1024, dtype=np.float64)

    def __len__(self) -> int:
        return self._n

    def add(self, image_id: int, h: PerceptualHash) -> None:
        if self._n == len(self._ids):  # grow by doubling: amortised O(1) per add
            self._ids = np.resize(self._ids, 2 * self._n)
            self._bits = np.resize(self._bits, 2 * self._n)
            self._ratios = np.resize(self._ratios, 2 * self._n)
        self._ids[self._n] = image_id
        self._bits[self._n] = np.uint64(h.bits & ((1 << 64) - 1))
        self._ratios[self._n] = h.width / h.height
        self._n += 1

    def find(self, h: PerceptualHash) -> tuple[int, int] | None:
        """``(image_id, distance)`` of the closest stored image within ``max_bits``."""
        if not self._n:
            return None
        n = self._n
        query = np.uint64(h.bits & ((1 << 64) - 1))
        distances = np.bitwise_count(np.bitwise_xor(self._bits[:n], query))
        ratio = h.width / h.height
        close = (distances <= self.max_bits) & (
            np.abs(self._ratios[:n] / ratio - 1.0) <= _ASPECT_TOLERANCE
        )
        if not close.any():
            return None
        candidates = np.flatnonzero(close)
        best = candidates[np.argmin(distances[candidates])]
        return int(self._ids[best]), int(distances[best])
