"""Index neighbours -> ranked candidates on the score the threshold applies to.

A probe is one face, or several frames of one face (a video probe's face track,
:mod:`faceatlas.search.video`): then each candidate is scored against every frame exactly as
against a single probe, and its score is the **mean** over the frames (why that stays
calibrated: :mod:`faceatlas.search.video`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from faceatlas.index.protocol import IndexHit
from faceatlas.search.fairness import FairScorer
from faceatlas.types import record

__all__ = ["Candidate", "fetch_size", "rank_candidates"]

VectorLookup = Callable[[Sequence[int]], Mapping[int, np.ndarray[Any, np.dtype[np.float32]]]]
OVERFETCH = 4
"""Fair scores can reorder the index's cosine ranking (an offset only lowers a score), so
fair search asks the index for this many times ``top_k`` neighbours, at least
:data:`MIN_FETCH`, before ranking."""
MIN_FETCH = 50
MAX_FETCH = 1000


@record
class Candidate:
    id: int
    similarity: float
    score: float
    """What the threshold applies to: the fair score, or the similarity when scoring is raw."""


def fetch_size(top_k: int, scorer: FairScorer | None, frames: int = 1) -> int:
    """Neighbours asked of the index per probe frame: ``top_k`` when the index's own ranking
    is final (one frame, raw scores), else more (rescoring can reorder them)."""
    if scorer is None and frames == 1:
        return top_k
    return min(MAX_FETCH, max(top_k * OVERFETCH, MIN_FETCH, top_k))


def rank_candidates(
    probe: np.ndarray[Any, np.dtype[np.float32]],
    hits: Sequence[IndexHit],
    *,
    threshold: float,
    top_k: int,
    scorer: FairScorer | None,
    vectors: VectorLookup,
) -> list[Candidate]:
    """Candidates scoring at least ``threshold``, best first, at most ``top_k``.

    ``probe`` is one embedding ``(dim,)`` or the frames of one face ``(k, dim)``. With a
    scorer, or several frames, each hit is rescored from its stored vector (the mean over the
    frames); a hit whose vector is gone (erased since the index was saved) is dropped.
    """
    probes = np.asarray(probe, np.float32)
    probes = probes.reshape(-1, probes.shape[-1])
    if scorer is None and len(probes) == 1:
        kept = [Candidate(h.id, h.similarity, h.similarity) for h in hits]
    else:
        ids = list(dict.fromkeys(h.id for h in hits))
        stored = vectors(ids)
        present = [i for i in ids if i in stored]
        if not present:
            return []
        gallery = np.stack([stored[i] for i in present]).astype(np.float32)
        sims = probes @ gallery.T
        scores = (
            sims
            if scorer is None
            else scorer.combine(sims, scorer.face_offsets(probes), scorer.face_offsets(gallery))
        )
        kept = [
            Candidate(i, float(sim), float(score))
            for i, sim, score in zip(present, sims.mean(axis=0), scores.mean(axis=0), strict=True)
        ]
    kept = [c for c in kept if c.score >= threshold]
    kept.sort(key=lambda c: (-c.score, c.id))
    return kept[:top_k]
