"""Shared vocabulary: boxes, detected and analysed faces, search hits.

Conventions that hold everywhere:

* Boxes are integer pixel coordinates ``(left, top, right, bottom)`` in the
  upright (EXIF-corrected) image, right/bottom exclusive, clipped to the image.
* Embeddings are ``float32`` vectors of unit L2 norm. Similarity is their
  inner product (cosine similarity), in ``[-1, 1]``; higher is more alike.
  Euclidean distance between two embeddings is ``sqrt(2 - 2 * similarity)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from enum import Enum
from typing import Annotated, Any, ClassVar, Self, TypeVar, dataclass_transform

import numpy as np
import numpy.typing as npt
from annotated_types import Ge, Le

__all__ = [
    "MAX_ROW_ID",
    "AnalyzedFace",
    "Box",
    "Closing",
    "DetectedFace",
    "FaceQuality",
    "FaceSpan",
    "JsonRecord",
    "Point",
    "RGBImage",
    "RowId",
    "Vector",
    "Vectors",
    "is_web_url",
    "picked",
    "record",
    "record_as",
    "record_dict",
    "similarity_to_distance",
]

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a record: a frozen dataclass with slots, the one form of every domain
    record (set once here, so a change of that form is a change of one line)."""
    return dataclass(frozen=True, slots=True)(cls)


def picked(source: object, *names: str) -> dict[str, Any]:
    """``source``'s attributes ``names``, by name and in that order: a chosen view of a
    record (the public part of a row, say)."""
    return {name: getattr(source, name) for name in names}


R = TypeVar("R")


def record_as(cls: type[R], source: object, **given: Any) -> R:
    """A ``cls`` record whose every field not ``given`` is ``source``'s attribute of the same
    name: one record carried over into another's vocabulary."""
    taken = {f.name: getattr(source, f.name) for f in fields(cls) if f.name not in given}  # type: ignore[arg-type]
    return cls(**taken, **given)


def record_dict(record: Any, *, digits: int | Mapping[str, int] | None = None) -> dict[str, Any]:
    """A dataclass record's fields by name, ready for JSON: the usual ``as_dict``.

    Tuples and lists become lists, dicts keep their keys, enums become their value, and
    nested records (anything with an ``as_dict``) their own dict. ``digits`` rounds float
    fields: one number of decimals for every float field, or a number per field name.
    """
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        places = digits.get(f.name) if isinstance(digits, Mapping) else digits
        if places is not None and isinstance(value, float):
            value = round(value, places)
        out[f.name] = _plain(value)
    return out


class JsonRecord:
    """Mixin of a dataclass record whose JSON view is every field, as :func:`record_dict`
    gives them; ``DIGITS`` (a class variable) rounds its float fields as ``digits`` there."""

    __slots__ = ()

    DIGITS: ClassVar[int | Mapping[str, int] | None] = None

    def as_dict(self) -> dict[str, Any]:
        return record_dict(self, digits=self.DIGITS)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return value


def json_ready(value: Any) -> Any:
    """Convert numpy scalars inside plain containers to Python numbers."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


RGBImage = npt.NDArray[np.uint8]
"""An image as ``uint8`` array of shape ``(height, width, 3)``, RGB order."""
Vector = npt.NDArray[np.float32]
"""One embedding, ``float32`` of shape ``(dim,)``."""
Vectors = npt.NDArray[np.float32]
"""A batch of embeddings, ``float32`` of shape ``(n, dim)``."""

Point = tuple[float, float]


def similarity_to_distance(similarity: float) -> float:
    """Euclidean distance between unit vectors with the given cosine similarity."""
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * similarity)))


@record
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    @property
    def center(self) -> Point:
        return ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)

    def clip(self, width: int, height: int) -> Box:
        return Box(
            left=min(max(self.left, 0), width),
            top=min(max(self.top, 0), height),
            right=min(max(self.right, 0), width),
            bottom=min(max(self.bottom, 0), height),
        )

    def iou(self, other: Box) -> float:
        inter = Box(
            max(self.left, other.left),
            max(self.top, other.top),
            min(self.right, other.right),
            min(self.bottom, other.bottom),
        )
        if inter.width <= 0 or inter.height <= 0:
            return 0.0
        union = self.area + other.area - inter.area
        return inter.area / union if union else 0.0

    def as_dict(self) -> dict[str, int]:
        return record_dict(self)


@record
class DetectedFace:
    """A face found by a detector.

    ``landmarks`` are the five alignment points in image pixels, in the
    engine's own order (documented by each engine). ``score`` is the
    detector's confidence, comparable only within one detector.
    """

    box: Box
    landmarks: tuple[Point, ...]
    score: float


@record
class FaceQuality:
    """Per-face quality signals, all cheap to compute.

    ``box_px``: shorter side of the face box in pixels. ``detector_score``:
    as reported by the detector. ``sharpness``: variance of the Laplacian of
    the aligned grey chip (higher is sharper; below ~30 is usually blurred).
    ``frontal``: rough frontal-pose estimate from the landmarks, 1.0 for a
    face looking at the camera, falling towards 0.0 as the head turns.
    ``exposure``: mean brightness of the aligned grey chip, 0 (black) to 1 (white);
    measured for probes (the quality gate), not kept for stored faces (``None``).
    """

    box_px: int
    detector_score: float
    sharpness: float
    frontal: float
    exposure: float | None = None

    def as_dict(self) -> dict[str, float]:
        out = {
            "box_px": self.box_px,
            "detector_score": round(self.detector_score, 4),
            "sharpness": round(self.sharpness, 2),
            "frontal": round(self.frontal, 3),
        }
        if self.exposure is not None:
            out["exposure"] = round(self.exposure, 3)
        return out


@record
class FaceSpan(JsonRecord):
    """When a face track of a video is on screen, in seconds from the video's first frame:
    the first and last sampled frames it was seen in, and the frame its embedding and
    thumbnail come from (``best_s``); ``frames``: sampled frames it was seen in."""

    start_s: float
    end_s: float
    best_s: float
    frames: int

    DIGITS: ClassVar[int] = 2


@record
class AnalyzedFace:
    """A detected face with its quality, unit-norm embedding and JPEG thumbnail; a face track
    of a video also has its :class:`FaceSpan` (``None`` for a photo's face)."""

    detection: DetectedFace
    quality: FaceQuality
    embedding: Vector = field(repr=False)
    thumbnail_jpeg: bytes = field(repr=False)
    span: FaceSpan | None = None

    @property
    def box(self) -> Box:
        return self.detection.box


class Closing:
    """A base for what holds resources until :meth:`close`; a ``with`` block closes it."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_web_url(url: str | None) -> bool:
    """Whether ``url`` is an http or https URL: the only kind stored as a page or made a link
    (``None``, a sighting with no page, is not)."""
    return url is not None and url.strip().lower().startswith(("http://", "https://"))


MAX_ROW_ID = 2**63 - 1
"""The largest id a catalog row can have (a signed 64-bit integer in SQLite and PostgreSQL)."""
RowId = Annotated[int, Ge(-MAX_ROW_ID), Le(MAX_ROW_ID)]
"""An id as front ends accept it: out of the 64-bit range is a bad request (422), never a
server error. Negative and unknown ids are simply not found."""
