"""Image in, analysed faces out: detect, align, embed, measure, thumbnail."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image

from faceatlas.engine.protocol import FaceEngine
from faceatlas.engine.quality import measure_quality
from faceatlas.timing import StageTimer
from faceatlas.types import AnalyzedFace, Box, DetectedFace, RGBImage

__all__ = ["analyze_faces", "thumbnail_jpeg"]


def thumbnail_jpeg(image: RGBImage, box: Box, *, max_side_px: int, margin: float = 0.2) -> bytes:
    """A JPEG crop of ``box`` grown by ``margin`` on each side, longest side ``max_side_px``."""
    height, width = image.shape[:2]
    grow_x = int(box.width * margin)
    grow_y = int(box.height * margin)
    crop = Box(box.left - grow_x, box.top - grow_y, box.right + grow_x, box.bottom + grow_y).clip(
        width, height
    )
    pil = Image.fromarray(image[crop.top : crop.bottom, crop.left : crop.right])
    pil.thumbnail((max_side_px, max_side_px), Image.Resampling.BILINEAR)  # cheaper than bicubic
    out = io.BytesIO()
    pil.save(out, format="JPEG", quality=85)
    return out.getvalue()


def analyze_faces(
    engine: FaceEngine,
    image: RGBImage,
    *,
    thumbnail_px: int,
    faces: Sequence[DetectedFace] | None = None,
    timer: StageTimer | None = None,
) -> list[AnalyzedFace]:
    """Analyse every face of ``image`` (or the given detections), largest first; ``timer``
    times the ``detect`` and ``embed`` (align, embed, measure, thumbnail) stages."""
    timer = timer or StageTimer()
    with timer.stage("detect"):
        detections = list(engine.detect(image) if faces is None else faces)
    detections.sort(key=lambda f: (-f.box.area, f.box.top, f.box.left))
    with timer.stage("embed"):
        return _analyzed(engine, image, detections, thumbnail_px)


def _analyzed(
    engine: FaceEngine, image: RGBImage, detections: list[DetectedFace], thumbnail_px: int
) -> list[AnalyzedFace]:
    chips = [engine.align(image, face) for face in detections]
    vectors = engine.embed_chips(chips)
    return [
        AnalyzedFace(
            detection=face,
            quality=measure_quality(face, chip, engine.eyes_and_nose(face)),
            embedding=vectors[i],
            thumbnail_jpeg=thumbnail_jpeg(image, face.box, max_side_px=thumbnail_px),
        )
        for i, (face, chip) in enumerate(zip(detections, chips, strict=True))
    ]
