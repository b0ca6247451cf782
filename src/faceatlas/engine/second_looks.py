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

from faceatlas.engine.opencv import opencv
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
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = opencv().resize(image, size, interpolation=opencv().INTER_AREA)
    return np.ascontiguousarray(small), scale


def padded(image: RGBImage, one_pass: OnePass, min_face_px: int, max_side_px: int) -> Look:
    """Faces of ``image`` found on a gray canvas around it, in the image's coordinates; a face
    whose centre falls outside the image is dropped."""
    height, width = image.shape[:2]
    small, scale = shrunk(image, max_side_px / (1 + 2 * PAD_FRACTION))
    pad = round(PAD_FRACTION * max(small.shape[:2]))
    canvas = np.full((small.shape[0] + 2 * pad, small.shape[1] + 2 * pad, 3), PAD_GRAY, np.uint8)
    canvas[pad : pad + small.shape[0], pad : pad + small.shape[1]] = small
    look = one_pass(canvas)
    faces: list[DetectedFace] = []
    for face in look.faces:
        points = (np.asarray(face.landmarks, dtype=np.float64) - pad) / scale
        b = face.box
        corners = (np.array([[b.left, b.top], [b.right, b.bottom]], dtype=np.float64) - pad) / scale
        centre_x, centre_y = corners.mean(axis=0)
        if not (0 <= centre_x < width and 0 <= centre_y < height):
            continue
        box = _box_around(corners, width, height)
        if min(box.width, box.height) < min_face_px:
            continue
        landmarks = tuple((float(x), float(y)) for x, y in points)
        faces.append(DetectedFace(box=box, landmarks=landmarks, score=face.score))
    return Look(faces, look.best_score)


def _box_around(points: np.ndarray, width: int, height: int) -> Box:
    """The box around ``(n, 2)`` image points, clipped to the image."""
    low, high = points.min(axis=0), points.max(axis=0)
    return Box(round(low[0]), round(low[1]), round(high[0]), round(high[1])).clip(width, height)


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


def _back(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(n, 2)`` canvas points taken back into the image by the inverse of ``matrix``."""
    inverse = opencv().invertAffineTransform(matrix)
    back: np.ndarray = points @ inverse[:, :2].T + inverse[:, 2]
    return back


def tilted(
    image: RGBImage, one_pass: OnePass, min_face_px: int, max_side_px: int
) -> list[DetectedFace]:
    """Faces found in ``image`` turned by each of :data:`TILT_ANGLES_DEG`, in the image's
    coordinates: landmarks taken back exactly, the box the one around the turned box's corners
    (clipped to the image). The same face seen at two turns comes twice: the caller merges."""
    height, width = image.shape[:2]
    # a turned canvas is at most sqrt(2) times the image's longer side
    small, scale = shrunk(image, max_side_px / np.sqrt(2.0))
    faces: list[DetectedFace] = []
    for degrees in TILT_ANGLES_DEG:
        canvas, matrix = turned(small, degrees)
        for face in one_pass(canvas).faces:
            b = face.box
            corners = (
                _back(
                    matrix,
                    np.array(
                        [
                            [b.left, b.top],
                            [b.right, b.top],
                            [b.right, b.bottom],
                            [b.left, b.bottom],
                        ],
                        dtype=np.float64,
                    ),
                )
                / scale
            )
            points = _back(matrix, np.asarray(face.landmarks, dtype=np.float64)) / scale
            centre_x, centre_y = points.mean(axis=0)
            if not (0 <= centre_x < width and 0 <= centre_y < height):
                continue
            box = _box_around(corners, width, height)
            if min(box.width, box.height) < min_face_px:
                continue
            landmarks = tuple((float(x), float(y)) for x, y in points)
            faces.append(DetectedFace(box=box, landmarks=landmarks, score=face.score))
    return faces
