"""Plain records read from the catalog."""

from __future__ import annotations

from faceatlas.types import Box, FaceQuality, FaceSpan, record

__all__ = ["FaceRecord", "ImageRecord", "SightingRecord", "StoredFace"]


@record
class SightingRecord:
    """One place an image was found: a file path, or an image URL on a page."""

    id: int
    source_kind: str
    source_locator: str
    locator: str
    page_url: str
    page_title: str | None
    alt_text: str | None
    caption: str | None
    http_last_modified: str | None
    first_seen: str
    last_seen: str


@record
class ImageRecord:
    id: int
    sha256: str
    byte_size: int
    width: int
    height: int
    format: str
    face_count: int


@record
class FaceRecord:
    id: int
    image: ImageRecord
    ordinal: int
    box: Box
    quality: FaceQuality
    sightings: tuple[SightingRecord, ...]
    span: FaceSpan | None = None
    """When the face is on screen, for a face track of a video (``None`` for a photo's)."""


@record
class StoredFace:
    """A stored face's place: its image and its box in that image's pixels."""

    face_id: int
    image_id: int
    box: Box
