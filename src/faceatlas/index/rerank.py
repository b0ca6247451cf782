"""Exact re-ranking of an approximate shortlist with the stored float32 vectors.

Approximate indexes (IVF with SQ8/PQ codes, Milvus) return a shortlist whose
scores are approximations. Re-ranking recomputes the inner product with the
exact vectors, so the similarity a caller compares with the calibrated
threshold is the same number exact search would report, and a candidate whose
vector is gone (erased since) is dropped.
"""

from __future__ import annotations

import numpy as np

from faceatlas.index.protocol import IndexHit, VectorLookup
from faceatlas.types import Vectors

__all__ = ["rerank", "shortlist_size"]


def shortlist_size(k: int, shortlist: int) -> int:
    """Candidates to fetch for a top-``k`` answer: at least ``4 k`` and at least ``shortlist``."""
    return max(4 * k, shortlist, k)


def rerank(
    queries: Vectors, candidates: list[list[int]], lookup: VectorLookup, k: int
) -> list[list[IndexHit]]:
    """Top ``k`` of each query's ``candidates`` by exact inner product, best first.

    ``queries``: float32 ``(n, dim)``; ``candidates[i]``: ids proposed for query ``i``.
    One lookup serves the whole batch.
    """
    wanted = sorted({i for row in candidates for i in row})
    vectors = lookup(wanted) if wanted else {}
    out: list[list[IndexHit]] = []
    for q, row in zip(queries, candidates, strict=True):
        present = [i for i in dict.fromkeys(row) if i in vectors]
        if not present:
            out.append([])
            continue
        mat = np.stack([vectors[i] for i in present]).astype(np.float32, copy=False)
        sims = mat @ np.asarray(q, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        out.append([IndexHit(int(present[j]), float(sims[j])) for j in order])
    return out
