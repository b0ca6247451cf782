"""Label-free fair scoring: per-region thresholds that may only tighten the global one.

One global threshold lets faces from crowded parts of the embedding space (children,
some ethnic groups, low-quality crops) match strangers far more often than the stated
rate. The fair scorer divides the space into regions (spherical k-means centroids,
each an average of many faces, never one person's template) and gives each region a
*tightening* ``offset >= 0``: how much higher the similarity of different people
inside that region runs than inside the average region, measured at a resolvable
false-match rate on the fitting data. A comparison of faces ``a`` and ``b`` is scored

    score(a, b) = cosine(a, b) - max(offset(a), offset(b))

so the stricter of the two faces' regions applies, and no region's threshold is ever
loosened. No demographic label is used, guessed or stored: the region comes from the
embedding alone. The threshold on ``score`` and the score-to-error mappings are fitted
on the documented *fit* half of the shared data (``faceatlas eval fit-fairness``) and
ship with the package, so a fresh atlas is fair without a calibration step.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from faceatlas.search.fmr import (
    FmrMapping,
    count_at,
    counts_at_or_above,
    grid_dict,
    grid_of,
    wilson_interval,
)
from faceatlas.search.threshold import shipped_name, shipped_resource
from faceatlas.types import record

__all__ = [
    "UNREACHABLE",
    "FairScorer",
    "FpirEstimate",
    "FpirMapping",
    "fpir_at",
    "nearest_region",
    "paired_offsets",
    "stricter_offsets",
]

Floats = npt.NDArray[np.float32]
UNREACHABLE = 1.0 + 1e-6
"""A threshold above every possible score (cosine <= 1, offsets >= 0): nothing is returned."""


@record
class FpirEstimate:
    """Chance that a search of someone *not* in the gallery returns a candidate this strong.

    ``fpir`` with its 95% interval ``[fpir_lower, fpir_upper]`` at ``gallery_size`` faces.
    """

    fpir: float
    fpir_lower: float
    fpir_upper: float
    gallery_size: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "fpir": _sig(self.fpir),
            "fpir_lower": _sig(self.fpir_lower),
            "fpir_upper": _sig(self.fpir_upper),
            "gallery_size": self.gallery_size,
        }


def nearest_region(vectors: npt.ArrayLike, centroids: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Index of the nearest centroid ``(k, dim)`` of each unit vector ``(n, dim)``, ``(n,)``."""
    nearest: npt.NDArray[np.intp] = np.argmax(np.asarray(vectors) @ np.asarray(centroids).T, axis=1)
    return nearest


def stricter_offsets(
    offsets_a: npt.NDArray[np.floating[Any]], offsets_b: npt.NDArray[np.floating[Any]]
) -> npt.NDArray[np.floating[Any]]:
    """The offset a comparison pays: the larger of the two faces' (``(n,)`` against ``(m,)``
    gives the ``(n, m)`` block). A region's threshold applies to every pair touching it."""
    block: npt.NDArray[np.floating[Any]] = np.maximum.outer(offsets_a, offsets_b)
    return block


def paired_offsets(
    offsets_a: npt.NDArray[np.floating[Any]], offsets_b: npt.NDArray[np.floating[Any]]
) -> npt.NDArray[np.floating[Any]]:
    """The offset each pair pays, row by row (``(n,)`` and ``(n,)`` give ``(n,)``): the same rule
    as :func:`stricter_offsets` for matched rows."""
    rows: npt.NDArray[np.floating[Any]] = np.maximum(offsets_a, offsets_b)
    return rows


def fpir_at(per_comparison: float, gallery_size: int) -> float:
    """``1 - (1 - p)^N``: chance that at least one of ``N`` comparisons passes."""
    if gallery_size <= 0 or per_comparison <= 0.0:
        return 0.0
    if per_comparison >= 1.0:
        return 1.0
    return -math.expm1(gallery_size * math.log1p(-per_comparison))


@record
class FpirMapping:
    """Non-mated searches measured on the fit half: ``hits[i]`` of ``searches`` had a top
    score ``>= grid[i]`` against a gallery of ``gallery_size`` faces.

    Top scores of one probe against many faces are not independent comparisons (a
    look-alike-prone probe scores high against many), so the per-comparison rate used to
    scale to another gallery size is the *effective* one that reproduces the measured
    FPIR: ``p = 1 - (1 - FPIR)^(1/N)``.
    """

    grid: npt.NDArray[np.float64]
    hits: npt.NDArray[np.int64]
    searches: int
    gallery_size: int

    @classmethod
    def from_top_scores(
        cls, top_scores: npt.NDArray[np.floating[Any]], gallery_size: int, step: float = 0.001
    ) -> FpirMapping:
        grid, above = counts_at_or_above(top_scores, step)
        return cls(grid, above, len(top_scores), int(gallery_size))

    def estimate(self, score: float, gallery_size: int) -> FpirEstimate:
        k = count_at(self.grid, self.hits, score, self.searches)
        low, high = wilson_interval(k, self.searches)

        def scale(fpir_ref: float) -> float:
            if fpir_ref >= 1.0:
                return 1.0
            p = -math.expm1(math.log1p(-fpir_ref) / self.gallery_size)
            return fpir_at(p, gallery_size)

        return FpirEstimate(
            scale(k / self.searches), scale(low), scale(high), max(0, int(gallery_size))
        )

    def threshold_for(self, target_fpir: float, gallery_size: int) -> float:
        """Lowest grid score whose FPIR at ``gallery_size`` is at most the target with 95%
        confidence (the interval's upper bound), so the mode never promises more than the fit
        searches can show. Where no grid score qualifies the target cannot be certified at
        this size with these data: :data:`UNREACHABLE`, which no score reaches."""
        for i in range(len(self.grid)):
            if self.estimate(float(self.grid[i]), gallery_size).fpir_upper <= target_fpir:
                return float(self.grid[i])
        return UNREACHABLE

    def as_dict(self) -> dict[str, Any]:
        return {
            **grid_dict(self.grid),
            "hits": self.hits.tolist(),
            "searches": self.searches,
            "gallery_size": self.gallery_size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FpirMapping:
        return cls(
            grid_of(data),
            np.asarray(data["hits"], dtype=np.int64),
            int(data["searches"]),
            int(data["gallery_size"]),
        )


@record
class FairScorer:
    """Region centroids ``(k, dim)`` (unit ``float32``) with their tightening offsets ``(k,)``,
    the threshold on the fair score at ``target_fmr``, and the fitted error mappings."""

    model_id: str
    centroids: Floats
    offsets: Floats
    threshold: float
    target_fmr: float
    fmr: FmrMapping
    fpir: FpirMapping
    provenance: dict[str, Any]

    def __post_init__(self) -> None:
        if self.centroids.ndim != 2 or len(self.centroids) != len(self.offsets):
            raise ValueError("one offset per centroid is needed")
        if np.any(self.offsets < 0):
            raise ValueError("offsets may only tighten (>= 0)")

    @property
    def dim(self) -> int:
        return int(self.centroids.shape[1])

    def face_offsets(self, vectors: npt.ArrayLike) -> Floats:
        """The offset of each face ``(n, dim)``: that of its nearest centroid, ``float32 (n,)``."""
        x = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(x) == 0:
            return np.zeros(0, np.float32)
        return np.asarray(self.offsets[nearest_region(x, self.centroids)], dtype=np.float32)

    @staticmethod
    def combine(
        similarities: npt.ArrayLike, offsets_a: npt.ArrayLike, offsets_b: npt.ArrayLike
    ) -> Floats:
        """Fair scores of a block of similarities ``(n, m)`` between faces with offsets
        ``(n,)`` and ``(m,)``: ``similarity - max(offset_a, offset_b)``."""
        s = np.asarray(similarities, dtype=np.float32)
        a = np.asarray(offsets_a, dtype=np.float32).reshape(-1)
        b = np.asarray(offsets_b, dtype=np.float32).reshape(-1)
        return np.asarray(s - stricter_offsets(a, b), dtype=np.float32)

    def score_pairs(self, a: npt.ArrayLike, b: npt.ArrayLike) -> Floats:
        """Fair scores of matching rows of ``a`` and ``b`` (both ``(n, dim)``), ``(n,)``."""
        xa = np.asarray(a, dtype=np.float32).reshape(-1, self.dim)
        xb = np.asarray(b, dtype=np.float32).reshape(-1, self.dim)
        sims = np.einsum("ij,ij->i", xa, xb)
        paid = paired_offsets(self.face_offsets(xa), self.face_offsets(xb))
        return np.asarray(sims - paid, dtype=np.float32)

    # --- persistence -----------------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = {
            "model_id": self.model_id,
            "threshold": self.threshold,
            "target_fmr": self.target_fmr,
            "fmr": self.fmr.as_dict(),
            "fpir": self.fpir.as_dict(),
            "provenance": self.provenance,
        }
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            centroids=self.centroids.astype(np.float32),
            offsets=self.offsets.astype(np.float32),
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FairScorer:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            return cls(
                model_id=str(meta["model_id"]),
                centroids=np.asarray(z["centroids"], np.float32),
                offsets=np.asarray(z["offsets"], np.float32),
                threshold=float(meta["threshold"]),
                target_fmr=float(meta["target_fmr"]),
                fmr=FmrMapping.from_dict(meta["fmr"]),
                fpir=FpirMapping.from_dict(meta["fpir"]),
                provenance=dict(meta["provenance"]),
            )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_bytes())

    @classmethod
    def shipped(cls, model_id: str) -> FairScorer | None:
        """The scorer fitted for ``model_id`` that ships with the package, if any."""
        resource = shipped_resource(model_id)
        if not resource.is_file():
            return None
        scorer = cls.from_bytes(resource.read_bytes())
        if scorer.model_id != model_id:
            raise ValueError(f"{shipped_name(model_id)} was fitted for {scorer.model_id}")
        return scorer


def _sig(value: float) -> float:
    return float(f"{value:.3g}")
