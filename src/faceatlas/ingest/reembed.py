"""Re-embedding an atlas with another face model.

Faces, their boxes, identities and every manual edit stay as they are: each
face gets one more row in ``embeddings`` for the new model id. The new
engine finds its own landmarks inside the stored box (``FaceEngine.locate``),
aligns and embeds. Images are read again from where they were seen (local
files for folder sources) and must still hash to the stored SHA-256; a face of a
video is found again in its best frame (at its span's ``best_s``). The run
is resumable: faces that already have an embedding of the new model are
skipped. Old embeddings are kept, so switching back costs nothing; an index
only ever holds one model's vectors.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas.engine import FaceEngine, decode_image
from faceatlas.engine.video import VideoLimits, VideoSampler
from faceatlas.errors import FaceAtlasError
from faceatlas.store import Catalog
from faceatlas.store.records import StoredFace
from faceatlas.types import RGBImage, picked, record

__all__ = [
    "ImageReader",
    "ReembedProgress",
    "ReembedReport",
    "StoredFace",
    "local_file_reader",
    "pending_faces",
    "read_frame",
    "read_image",
    "reembed_faces",
]

log = logging.getLogger(__name__)

ImageReader = Callable[[str, str, str], bytes | None]
"""``(source kind, source locator, sighting locator) -> bytes``, or ``None`` when that
sighting cannot be read again (for example a web page that is not fetched again)."""


@dataclass(slots=True)
class ReembedReport:
    model_id: str
    faces_total: int = 0
    faces_done_before: int = 0
    faces_embedded: int = 0
    faces_failed: int = 0
    images_unreadable: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.faces_done_before + self.faces_embedded == self.faces_total

    def as_dict(self) -> dict[str, Any]:
        faces = ("faces_total", "faces_done_before", "faces_embedded", "faces_failed")
        return {
            **picked(self, "model_id", *faces, "images_unreadable", "complete"),
            "failures": self.failures[:100],
        }


@record
class ReembedProgress:
    images_done: int
    images_total: int


def local_file_reader(kind: str, source_locator: str, locator: str) -> bytes | None:
    """Bytes of a sighting found in a local folder; ``None`` for any other kind."""
    del source_locator
    if kind != "folder":
        return None
    try:
        return Path(locator).read_bytes()
    except OSError:
        return None


def pending_faces(catalog: Catalog, model_id: str) -> dict[int, list[StoredFace]]:
    """Faces without an embedding of ``model_id``, grouped by image id."""
    return catalog.faces_without_embedding(model_id)


def read_image(
    catalog: Catalog, image_id: int, reader: ImageReader, max_pixels: int
) -> RGBImage | None:
    """A stored image's pixels, read again from where it was seen (bytes that still match
    its SHA-256); ``None`` when no place still holds it."""
    return _read_back(
        catalog, image_id, reader, lambda data: decode_image(data, max_pixels=max_pixels).pixels
    )


def read_frame(
    catalog: Catalog, image_id: int, reader: ImageReader, time_s: float, limits: VideoLimits
) -> RGBImage | None:
    """The frame at ``time_s`` of a stored video, read again like :func:`read_image`."""

    def frame(data: bytes) -> RGBImage:
        with VideoSampler(data, limits) as video:
            return video.frame_at(time_s)

    return _read_back(catalog, image_id, reader, frame)


def _read_back(
    catalog: Catalog, image_id: int, reader: ImageReader, decode: Callable[[bytes], RGBImage]
) -> RGBImage | None:
    sha, places = catalog.image_places(image_id)
    for kind, source_locator, locator in places:
        data = reader(kind, source_locator, locator)
        if data is None or hashlib.sha256(data).hexdigest() != sha:
            continue
        try:
            return decode(data)
        except FaceAtlasError:
            continue
    return None


def _pictures(
    catalog: Catalog,
    image_id: int,
    faces: list[StoredFace],
    reader: ImageReader,
    max_pixels: int,
) -> list[RGBImage] | None:
    """What each face's box is in: the image, or for a face of a video its best frame."""
    spans = {f: r.span for f, r in catalog.faces([f.face_id for f in faces]).items()}
    if not any(spans.values()):
        image = read_image(catalog, image_id, reader, max_pixels)
        return None if image is None else [image] * len(faces)
    limits = VideoLimits(max_pixels=max_pixels)
    frames = []
    for f in faces:
        span = spans.get(f.face_id)
        frame = None if span is None else read_frame(catalog, image_id, reader, span.best_s, limits)
        if frame is None:
            return None
        frames.append(frame)
    return frames


def _batches(items: dict[int, list[StoredFace]], size: int) -> Iterator[list[int]]:
    keys = list(items)
    for i in range(0, len(keys), size):
        yield keys[i : i + size]


def reembed_faces(
    catalog: Catalog,
    engine: FaceEngine,
    *,
    reader: ImageReader = local_file_reader,
    max_pixels: int = 40_000_000,
    commit_every: int = 64,
    progress: Callable[[ReembedProgress], None] | None = None,
) -> ReembedReport:
    """Add an embedding of ``engine``'s model to every face that lacks one.

    Per-image failures (image gone, changed or undecodable) are counted and
    listed; they never stop the run. Returns the report; ``complete`` tells
    whether every face of the atlas now has an embedding of the new model.
    """
    engine.load()
    report = ReembedReport(model_id=engine.model_id, faces_total=catalog.face_count())
    pending = pending_faces(catalog, engine.model_id)
    report.faces_done_before = report.faces_total - sum(len(v) for v in pending.values())
    done_images = 0
    for image_ids in _batches(pending, commit_every):
        rows: list[tuple[int, np.ndarray[Any, np.dtype[np.float32]]]] = []
        for image_id in image_ids:
            faces = pending[image_id]
            pictures = _pictures(catalog, image_id, faces, reader, max_pixels)
            if pictures is None:
                report.images_unreadable += 1
                report.faces_failed += len(faces)
                report.failures.append(
                    {
                        "image_id": image_id,
                        "faces": [f.face_id for f in faces],
                        "code": "unreadable",
                    }
                )
                continue
            chips = []
            for f, image in zip(faces, pictures, strict=True):
                height, width = image.shape[:2]
                chips.append(engine.align(image, engine.locate(image, f.box.clip(width, height))))
            vectors = engine.embed_chips(chips)
            rows.extend((f.face_id, vectors[i]) for i, f in enumerate(faces))
        with catalog.writer() as w:
            for face_id, vector in rows:
                w.add_embedding(face_id, engine.model_id, vector)
        report.faces_embedded += len(rows)
        done_images += len(image_ids)
        if progress is not None:
            progress(ReembedProgress(done_images, len(pending)))
    log.info(
        "re-embedded %d faces with %s (%d failed)",
        report.faces_embedded,
        engine.model_id,
        report.faces_failed,
    )
    return report
