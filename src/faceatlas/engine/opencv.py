"""OpenCV as the engines use it: in the calling thread.

OpenCV's own thread pool pays more in wake-ups than it saves on an engine's small operations
(resizing a photo, warping a 112x112 chip, encoding a thumbnail): with its default of a thread
per core, ingest on one worker spent 0.65 ms of CPU a photo more in other threads (LFW, 2 cores).
Parallelism comes from the engines' callers instead: one ingest worker process per core, one
request per server thread, as ONNX Runtime runs one thread per session.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from faceatlas.types import RGBImage

__all__ = ["opencv", "scaled"]


@cache
def opencv() -> Any:
    """The ``cv2`` module, set (once per process) to run in the calling thread."""
    import cv2

    cv2.setNumThreads(0)
    return cv2


def scaled(image: RGBImage, scale: float) -> RGBImage:
    """``image`` resized by ``scale`` (each side at least 1 px): area averaging when it shrinks,
    bilinear when it grows."""
    cv2 = opencv()
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized: RGBImage = cv2.resize(image, size, interpolation=interp)
    return resized
