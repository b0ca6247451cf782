"""Index neighbours -> ranked candidates on the score the threshold applies to."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from faceatlas.index.protocol import IndexHit
from faceatlas.search.fairness import FairScorer

__all__ = ["Candidate", "fetch_size", "rank_candidates"]

VectorLookup = Callable[[Sequence[int]], Mapping[int, np.ndarray[Any, np.dtype[np.float32]]]]
OVERFETCH = 4
"""Fair scores can reorder the index's cosine ranking (an offset only lowers a score), so
fair search asks the index for this many times ``top_k`` neighbours, at least
:data:`MIN_FETCH`, before ranking."""
MIN_FETCH = 50
MAX_FETCH = 1000


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    similarity: float
    score: float
    """What the threshold applies to: the fair score, or the similarity when scoring is raw."""


def fetch_size(top_k: int, scorer: FairScorer | None) -> int:
    if scorer is None:
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

    With a scorer each hit is rescored from its stored vector; a hit whose vector is gone
    (erased since the index was saved) is dropped.
    """
    if scorer is None:
        kept = [Candidate(h.id, h.similarity, h.similarity) for h in hits]
    else:
        stored = vectors([h.id for h in hits])
        present = [h for h in hits if h.id in stored]
        if not present:
            return []
        gallery = np.stack([stored[h.id] for h in present]).astype(np.float32)
        sims = gallery @ np.asarray(probe, np.float32).reshape(-1)
        scores = scorer.combine(
            sims.reshape(1, -1), scorer.face_offsets(probe), scorer.face_offsets(gallery)
        )[0]
        kept = [
            Candidate(h.id, float(sim), float(score))
            for h, sim, score in zip(present, sims, scores, strict=True)
        ]
    kept = [c for c in kept if c.score >= threshold]
    kept.sort(key=lambda c: (-c.score, c.id))
    return kept[:top_k]
