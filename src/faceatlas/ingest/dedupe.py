"""Exact and near-duplicate content for the ingest pipeline.

Exact copies (same SHA-256) of stored or in-flight content are never analysed.
A near-duplicate (perceptual hash within ``max_bits``, same aspect ratio) is a
candidate only: it folds into the stored image when every one of its faces is
a distinct face of that image (see :func:`same_faces`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from faceatlas.engine.video import looks_like_video
from faceatlas.ingest.media import check_video_name
from faceatlas.ingest.phash import NearDuplicateIndex, PerceptualHash, hamming, perceptual_hash
from faceatlas.ingest.source import FetchingSource, ItemContent, Source, SourceItem
from faceatlas.store.catalog import Catalog, CatalogWriter
from faceatlas.store.provenance import ContentHash
from faceatlas.types import Vector, record

__all__ = [
    "Duplicates",
    "Loaded",
    "NearCopy",
    "load_item",
    "same_faces",
]

ASPECT_TOLERANCE = 0.03
"""Relative aspect-ratio difference beyond which two images are never near copies."""


@dataclass(slots=True)
class Loaded:
    """One item's bytes and hashes, as the fetch stage produces them (in a fetch thread)."""

    data: bytes | None
    sha256: str
    size: int
    phash: PerceptualHash | None
    http_last_modified: str | None


def load_item(source: Source, item: SourceItem, max_pixels: int) -> Loaded:
    """Read, hash and perceptually hash one item (runs in a fetch thread); a file named as a
    video must hold one (``not_a_video``)."""
    content = (
        source.fetch(item) if isinstance(source, FetchingSource) else ItemContent(source.read(item))
    )
    data = content.data
    check_video_name(item.locator, data)
    return Loaded(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        phash=None if looks_like_video(data[:16]) else perceptual_hash(data, max_pixels=max_pixels),
        http_last_modified=content.http_last_modified or item.http_last_modified,
    )


@record
class NearCopy:
    """A stored image some new content nearly copies, and whether their faces agree."""

    image_id: int
    bits: int
    same_faces: bool


class Duplicates:
    """Content seen so far: stored (content hashes in the catalog) and in flight."""

    def __init__(
        self, catalog: Catalog, max_bits: int, model_id: str, same_face_min_similarity: float
    ) -> None:
        self.catalog = catalog
        self.max_bits = max_bits
        self.model_id = model_id
        self.same_face_min_similarity = same_face_min_similarity
        """The model card's same-face threshold (on the model's scale)."""
        self.inflight: dict[str, PerceptualHash | None] = {}
        self.near = NearDuplicateIndex(max_bits)
        for h in catalog.content_hashes():
            assert h.phash is not None
            self.near.add(h.image_id, PerceptualHash(h.phash, h.width, h.height))

    def is_exact_copy(self, sha256: str) -> bool:
        """True when these bytes are in flight or already stored."""
        return sha256 in self.inflight or self.catalog.image_for_content(sha256) is not None

    def candidates(
        self, h: PerceptualHash | None
    ) -> tuple[tuple[int, int] | None, tuple[str, int] | None]:
        """``((stored image id, bits), (in-flight sha256, bits))``: the nearest stored image,
        or else the nearest in-flight content, within ``max_bits``."""
        if h is None:
            return None, None
        stored = self.near.find(h)
        if stored is not None:
            return stored, None
        return None, self._near_inflight(h)

    def _near_inflight(self, h: PerceptualHash) -> tuple[str, int] | None:
        best: tuple[str, int] | None = None
        for sha, other in self.inflight.items():
            if other is None or abs(other.width / other.height / (h.width / h.height) - 1) > (
                ASPECT_TOLERANCE
            ):
                continue
            bits = hamming(other.bits, h.bits)
            if bits <= self.max_bits and (best is None or bits < best[1]):
                best = (sha, bits)
        return best

    def start(self, loaded: Loaded) -> None:
        """``loaded`` goes to analysis: later copies of it wait for its write."""
        self.inflight[loaded.sha256] = loaded.phash

    def finish(self, loaded: Loaded) -> None:
        self.inflight.pop(loaded.sha256, None)

    def near_copy(
        self,
        w: CatalogWriter,
        stored: tuple[int, int] | None,
        inflight: tuple[str, int] | None,
        embeddings: list[Vector],
    ) -> NearCopy | None:
        """The stored image a candidate nearly copies, read inside the write transaction;
        ``None`` when there is none (no candidate, or the in-flight original failed)."""
        if stored is not None:
            image_id, bits = stored
        elif inflight is not None:
            found = w.image_for_content(inflight[0])
            if found is None:
                return None
            image_id, bits = found, inflight[1]
        else:
            return None
        vectors = w.face_vectors(image_id, self.model_id)
        agree = same_faces(embeddings, vectors, self.same_face_min_similarity)
        return NearCopy(image_id, bits, agree)

    def record(self, w: CatalogWriter, image_id: int, loaded: Loaded, bits: int) -> None:
        """Store ``loaded``'s hashes as content of ``image_id`` (``bits`` from its original)."""
        h = loaded.phash
        w.add_content_hash(
            ContentHash(
                image_id=image_id,
                sha256=loaded.sha256,
                phash=None if h is None else h.bits,
                width=0 if h is None else h.width,
                height=0 if h is None else h.height,
                byte_size=loaded.size,
                distance=bits,
            )
        )
        if h is not None:
            self.near.add(image_id, h)


def same_faces(new: list[Vector], stored: list[Vector], min_similarity: float) -> bool:
    """True when every new face matches a distinct stored face at ``min_similarity`` or above
    (greedy, best first).

    A perceptual hash alone can match two different photos of the same composition;
    folding one person's photo into another's would attach a page to the wrong face.
    """
    if len(new) > len(stored):
        return False
    if not new:
        return True
    sims = np.stack(new) @ np.stack(stored).T
    used: set[int] = set()
    for row in np.argsort(-sims.max(axis=1)):
        order = [int(c) for c in np.argsort(-sims[row]) if int(c) not in used]
        if not order or sims[row, order[0]] < min_similarity:
            return False
        used.add(order[0])
    return True
