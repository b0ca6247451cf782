"""What an ingest run is told (options) and what it tells back (progress, report)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from faceatlas.config_inference import INGEST_WINDOW_BYTES
from faceatlas.types import record

__all__ = ["IngestOptions", "IngestProgress", "IngestReport"]


@record
class IngestOptions:
    model_id: str
    same_face_min_similarity: float
    """Similarity above which a face of a resized or re-encoded copy is the stored face
    (the model card's own, on the model's scale)."""
    commit_every: int = 64
    index_checkpoint_every: int = 2000
    window: int = 8
    """Items in flight at once (fetching, queued or in analysis): bounds memory."""
    window_bytes: int = INGEST_WINDOW_BYTES
    """Bytes of files held for analysis at once (being read, read, queued or in a worker); past it
    no new item is read until analysis frees room. Large files are held whole, so the item
    count alone does not bound memory."""
    fetch_threads: int = 4
    """Concurrent reads; network sources want more than local files."""
    near_duplicate_bits: int = 4
    """Perceptual-hash distance (of 64 bits) within which copies fold; 0 folds only equal hashes."""
    max_pixels: int = 40_000_000


@record
class IngestProgress:
    done: int
    total: int | None
    faces: int
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        """Items per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate, when the total is known."""
        if self.total is None or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did. ``counts`` keys: ``items``, ``fetched``, ``new_images``,
    ``faces``, ``duplicates``, ``near_duplicates``, ``unchanged``, ``resumed``, ``no_face``,
    ``failed`` and ``failed:<code>`` (``failed:robots_disallowed``, ``failed:image_too_large``,
    ``failed:image_decode_error``, ``failed:not_an_image``, ``failed:fetch_timeout``,
    ``failed:taken_down`` (image or page URL on a taken-down domain: never read), ...)."""

    run_id: int
    source: str
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    max_failures_kept: int = 1000

    @property
    def images_per_s(self) -> float:
        return self.counts["items"] / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def faces_per_s(self) -> float:
        return self.counts["faces"] / self.elapsed_s if self.elapsed_s else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "counts": dict(sorted(self.counts.items())),
            "failures": [{"locator": loc, "code": c, "message": m} for loc, c, m in self.failures],
            "elapsed_s": round(self.elapsed_s, 3),
            "images_per_s": round(self.images_per_s, 3),
            "faces_per_s": round(self.faces_per_s, 3),
        }
