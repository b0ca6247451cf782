"""Aligned face crops at the photo's own resolution, for people to compare faces side by side.

The embedder's chip (:meth:`FaceEngine.align`) is small and fixed in size; an examiner needs
the face as the photo has it. :func:`aligned_crop` turns the photo about the face so that the
eyes lie level, and cuts a square around the face box (grown by ``margin`` on each side) at
scale 1: no pixel is invented and none is dropped beyond the resampling of the turn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image

from faceatlas.types import Box, Point, RGBImage, record

__all__ = ["AlignedCrop", "aligned_crop"]

JPEG_QUALITY = 92


@record
class AlignedCrop:
    """A JPEG of a face turned upright, and its landmarks in the crop's pixels."""

    jpeg: bytes
    width: int
    height: int
    landmarks: tuple[Point, ...]


def aligned_crop(
    image: RGBImage,
    box: Box,
    landmarks: Sequence[Point],
    eyes: tuple[Point, Point],
    *,
    margin: float = 0.3,
) -> AlignedCrop:
    """Crop ``box`` of ``image`` (``uint8`` ``(h, w, 3)``) turned so that ``eyes`` (image-left
    eye first, image pixels) lie level; ``landmarks`` (image pixels) come back in the crop's
    pixels. The crop is a square of side ``max(box) * (1 + 2 * margin)`` pixels; what falls
    outside the photo is black."""
    (lx, ly), (rx, ry) = eyes
    angle = math.atan2(ry - ly, rx - lx)
    cos, sin = math.cos(angle), math.sin(angle)
    side = max(2, round(max(box.width, box.height) * (1 + 2 * margin)))
    half = side / 2
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    # The affine map from crop pixels (u, v) to photo pixels: R(angle) (u - half, v - half) + c.
    coefficients = (
        cos,
        -sin,
        cx - cos * half + sin * half,
        sin,
        cos,
        cy - sin * half - cos * half,
    )
    turned = Image.fromarray(image).transform(
        (side, side), Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BICUBIC
    )
    out = io.BytesIO()
    turned.save(out, format="JPEG", quality=JPEG_QUALITY)

    def to_crop(p: Point) -> Point:
        dx, dy = p[0] - cx, p[1] - cy
        return (round(cos * dx + sin * dy + half, 1), round(-sin * dx + cos * dy + half, 1))

    return AlignedCrop(out.getvalue(), side, side, tuple(to_crop(p) for p in landmarks))
