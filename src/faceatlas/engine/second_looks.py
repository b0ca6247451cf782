"""Second looks at an image in which YuNet found no face: the SFace engine's recall on hard photos.

YuNet misses two kinds of clear faces that a person sees at once:

* a face that fills a tight crop (an ID photo, an avatar, a cropped screenshot) has no context
  around it; :func:`padded` looks again at the image centred on a gray canvas;
* a tilted head: YuNet's confidence falls with in-plane rotation, so a face tilted by 20 to 40
  degrees can score just under the bar. :func:`tilted` looks again at the image turned by each of
  :data:`TILT_ANGLES_DEG` and maps what it finds back into the image.

Each look is one YuNet pass held to the same confidence bar as the first
(``SFaceOptions.score_threshold``). Only an image with no face pays for them, and the tilted
looks only when some place of the image came near a face (:data:`TILT_MIN_SCORE`): a face-free
photo rarely does, so it costs one look more, not five (``benchmarks/detect_second_looks.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from faceatlas.engine.opencv import opencv, scaled
from faceatlas.types import Box, DetectedFace, RGBImage

__all__ = [
    "PAD_FRACTION",
    "PAD_GRAY",
    "TILT_ANGLES_DEG",
    "TILT_MIN_SCORE",
    "Look",
    "padded",
    "shrunk",
    "tilted",
    "turned",
]

PAD_FRACTION = 0.5
"""The padded look's canvas is larger than the image by this fraction of the image's longer side
on every side. UTKFace's 200x200 aligned crops: 141 of 1,484 missed without it, 7 with it."""
PAD_GRAY = 127
TILT_ANGLES_DEG: tuple[float, ...] = (-30.0, -15.0, 15.0, 30.0)
"""The turns of the tilted looks, counter-clockwise in degrees. Not fitted to data: two steps
each way cover tilts up to about 45 degrees, where YuNet's own tolerance ends between 20 and 30
(Colin Powell's first LFW photo turned: found at 20 degrees, missed at 30)."""
TILT_MIN_SCORE = 0.5
"""The tilted looks run only when the first looks scored some place of the image at least this
(well under the bar of 0.9 that a face must reach). Not fitted to data; what it saves and misses is measured in
``benchmarks/detect_second_looks.py``."""


class Look(NamedTuple):
    """What one look found (in the coordinates of the image looked at) and the highest YuNet
    score it saw anywhere, found or not."""

    faces: list[DetectedFace]
    best_score: float


OnePass = Callable[[RGBImage], Look]
"""One YuNet pass over an image, seen at most at the engine's one-pass size."""


def shrunk(image: RGBImage, longest_px: float) -> tuple[RGBImage, float]:
    """``image`` scaled down so that its longer side is at most ``longest_px`` (as it is when
    smaller), and the scale. A second look sees its canvas at the engine's one-pass size at most
    anyway, so a large image is made small before its canvas is built, not after."""
    scale = min(1.0, longest_px / max(image.shape[:2]))
    if scale >= 1.0:
        return image, 1.0
    return np.ascontiguousarray(scaled(image, scale)), scale


def padded(image: RGBImage, one_pass: OnePass, min_face_px: int, max_side_px: int) -> Look:
    """Faces of ``image`` found on a gray canvas around it, in the image's coordinates; a face
    whose centre falls outside the image is dropped."""
    height, width = image.shape[:2]
    small, scale = shrunk(image, max_side_px / (1 + 2 * PAD_FRACTION))
    pad = round(PAD_FRACTION * max(small.shape[:2]))
    canvas = np.full((small.shape[0] + 2 * pad, small.shape[1] + 2 * pad, 3), PAD_GRAY, np.uint8)
    canvas[pad : pad + small.shape[0], pad : pad + small.shape[1]] = small
    look = one_pass(canvas)

    def to_image(points: np.ndarray) -> np.ndarray:
        image_points: np.ndarray = (points - pad) / scale
        return image_points

    placed = (_placed(face, to_image, width, height, min_face_px) for face in look.faces)
    return Look([face for face in placed if face is not None], look.best_score)


def _placed(
    face: DetectedFace,
    to_image: Callable[[np.ndarray], np.ndarray],
    width: int,
    height: int,
    min_face_px: int,
) -> DetectedFace | None:
    """``face``, found on a canvas, in the image's coordinates (``to_image`` takes ``(n, 2)``
    canvas points there): its landmarks taken back exactly, its box the one around its box's
    corners, clipped. None when its centre falls outside the image or its box is under
    ``min_face_px``."""
    b = face.box
    corners = np.array(
        [[b.left, b.top], [b.right, b.top], [b.right, b.bottom], [b.left, b.bottom]],
        dtype=np.float64,
    )
    corners = to_image(corners)
    centre_x, centre_y = corners.mean(axis=0)
    if not (0 <= centre_x < width and 0 <= centre_y < height):
        return None
    low, high = corners.min(axis=0), corners.max(axis=0)
    box = Box(round(low[0]), round(low[1]), round(high[0]), round(high[1])).clip(width, height)
    if min(box.width, box.height) < min_face_px:
        return None
    points = to_image(np.asarray(face.landmarks, dtype=np.float64))
    landmarks = tuple((float(x), float(y)) for x, y in points)
    return DetectedFace(box=box, landmarks=landmarks, score=face.score)


def turned(image: RGBImage, degrees: float) -> tuple[RGBImage, np.ndarray]:
    """``image`` turned counter-clockwise by ``degrees`` on a gray canvas that holds all of it,
    and the ``(2, 3)`` affine matrix from the image's coordinates to the canvas's."""
    cv2 = opencv()
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    out_w, out_h = round(height * sin + width * cos), round(height * cos + width * sin)
    matrix[0, 2] += out_w / 2 - width / 2
    matrix[1, 2] += out_h / 2 - height / 2
    canvas = cv2.warpAffine(
        image,
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(PAD_GRAY, PAD_GRAY, PAD_GRAY),
    )
    return np.ascontiguousarray(canvas), matrix


def tilted(
    image: RGBImage, one_pass: OnePass, min_face_px: int, max_side_px: int
) -> list[DetectedFace]:
    """Faces found in ``image`` turned by each of :data:`TILT_ANGLES_DEG`, in the image's
    coordinates (see :func:`_placed`). The same face seen at two turns comes twice: the caller
    merges."""
    height, width = image.shape[:2]
    # a turned canvas is at most sqrt(2) times the image's longer side
    small, scale = shrunk(image, max_side_px / np.sqrt(2.0))
    faces: list[DetectedFace] = []
    for degrees in TILT_ANGLES_DEG:
        canvas, matrix = turned(small, degrees)
        inverse = opencv().invertAffineTransform(matrix)

        def to_image(points: np.ndarray, inverse: np.ndarray = inverse) -> np.ndarray:
            image_points: np.ndarray = (points @ inverse[:, :2].T + inverse[:, 2]) / scale
            return image_points

        for face in one_pass(canvas).faces:
            found = _placed(face, to_image, width, height, min_face_px)
            if found is not None:
                faces.append(found)
    return faces
