"""Cheap per-face quality signals: size, sharpness and a rough frontal-pose score."""

from __future__ import annotations

import numpy as np

from faceatlas.types import DetectedFace, FaceQuality, Point, RGBImage

__all__ = ["exposure", "frontal_score", "measure_quality", "sharpness"]

GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def exposure(chip: RGBImage) -> float:
    """Mean brightness of the grey chip, 0 (black) to 1 (white)."""
    return float((chip.astype(np.float32) @ GREY).mean() / 255.0)


def sharpness(chip: RGBImage) -> float:
    """Variance of a 4-neighbour Laplacian of the grey chip."""
    grey = chip.astype(np.float32) @ GREY
    lap = (
        -4.0 * grey[1:-1, 1:-1]
        + grey[:-2, 1:-1]
        + grey[2:, 1:-1]
        + grey[1:-1, :-2]
        + grey[1:-1, 2:]
    )
    return float(lap.var())


def frontal_score(eye_a: Point, eye_b: Point, nose: Point) -> float:
    """1.0 when the nose sits midway between the eyes, falling to 0.0 as the head turns.

    The horizontal offset of the nose from the eye midpoint, relative to the
    eye distance, is a monotone proxy for yaw; 0.5 of the eye distance or more
    scores 0.0.
    """
    eye_dist = float(np.hypot(eye_a[0] - eye_b[0], eye_a[1] - eye_b[1]))
    if eye_dist <= 1e-6:
        return 0.0
    mid_x = (eye_a[0] + eye_b[0]) / 2.0
    mid_y = (eye_a[1] + eye_b[1]) / 2.0
    # Project the nose offset onto the inter-eye axis so in-plane roll does not count as yaw.
    ax = (eye_b[0] - eye_a[0]) / eye_dist
    ay = (eye_b[1] - eye_a[1]) / eye_dist
    along = (nose[0] - mid_x) * ax + (nose[1] - mid_y) * ay
    return float(max(0.0, 1.0 - 2.0 * abs(along) / eye_dist))


def measure_quality(
    face: DetectedFace, chip: RGBImage, eyes_and_nose: tuple[Point, Point, Point]
) -> FaceQuality:
    return FaceQuality(
        box_px=min(face.box.width, face.box.height),
        detector_score=face.score,
        sharpness=sharpness(chip),
        frontal=frontal_score(*eyes_and_nose),
        exposure=exposure(chip),
    )
