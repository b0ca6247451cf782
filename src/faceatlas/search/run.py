"""One search, from a probe embedding to typed results: threshold, candidates, error rates.

The threshold in force is chosen by :func:`~faceatlas.search.threshold.threshold_in_force`; a
target false-candidate rate per search may only tighten it (:func:`tighten_for_fpir`). Candidates come from the
index, pass the caller's blocklist filter, are re-ranked on the fair score and assembled with
their catalog records and error estimates by :func:`run_search`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from faceatlas.choices import MAX_TOP_K
from faceatlas.errors import InvalidRequestError
from faceatlas.index.protocol import IndexHit, VectorIndex
from faceatlas.search.candidates import VectorLookup, fetch_size, rank_candidates
from faceatlas.search.fairness import UNREACHABLE, FairScorer
from faceatlas.search.fmr import FmrMapping
from faceatlas.search.results import Hit, ProbeFace, SearchResult
from faceatlas.store.records import FaceRecord
from faceatlas.timing import StageTimer
from faceatlas.types import record, record_as

__all__ = ["SearchSetup", "run_search", "tighten_for_fpir"]


def tighten_for_fpir(
    threshold: float,
    source: str,
    scorer: FairScorer | None,
    target_fpir: float | None,
    gallery_size: int,
) -> tuple[float, str]:
    """Raise ``threshold`` until a stranger's search returns a candidate with probability at
    most ``target_fpir`` (95% upper bound) at ``gallery_size``; never lower it."""
    if scorer is None or target_fpir is None:
        return threshold, source
    by_fpir = scorer.fpir.threshold_for(target_fpir, gallery_size)
    if by_fpir <= threshold:
        return threshold, source
    source = f"target FPIR {target_fpir:g}"
    if by_fpir >= UNREACHABLE:
        source += " (not certifiable at this atlas size: nothing is returned)"
    return by_fpir, source


@record
class SearchSetup:
    """What one atlas brings to a search."""

    model_id: str
    index: VectorIndex
    scorer: FairScorer | None
    fmr: FmrMapping | None
    vectors: VectorLookup
    records: Callable[[Sequence[int]], dict[int, FaceRecord]]
    unblocked: Callable[[list[IndexHit]], list[IndexHit]]


def run_search(
    setup: SearchSetup,
    vector: np.ndarray[Any, np.dtype[np.float32]],
    *,
    threshold: float,
    source: str,
    top_k: int,
    probe_faces: Sequence[ProbeFace] = (),
    selected: int = 0,
    timer: StageTimer | None = None,
) -> SearchResult:
    """Candidates at or above ``threshold`` on the score in force, best first. ``vector`` is
    one probe embedding ``(dim,)``, or the frames of one face ``(k, dim)`` scored by their mean
    (:mod:`faceatlas.search.candidates`). ``timer`` times the ``index`` stage (candidates,
    filtered and re-ranked) and the ``catalog`` one (their records)."""
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidRequestError(f"top_k must be between 1 and {MAX_TOP_K}")
    timer = timer or StageTimer()
    scorer = setup.scorer
    gallery_size = len(setup.index)
    query = np.asarray(vector, dtype=np.float32)
    query = query.reshape(-1, query.shape[-1])
    with timer.stage("index"):
        rows = setup.index.search(query, fetch_size(top_k, scorer, len(query)))
        raw = list({h.id: h for row in rows for h in row}.values())  # each face once
        candidates = rank_candidates(
            query,
            setup.unblocked(raw),
            threshold=threshold,
            top_k=top_k,
            scorer=scorer,
            vectors=setup.vectors,
        )
    with timer.stage("catalog"):
        records = setup.records([c.id for c in candidates])
    hits: list[Hit] = []
    for c in candidates:
        rec = records.get(c.id)
        if rec is None:
            continue  # erased since the index was saved
        fmr = None if setup.fmr is None else setup.fmr.estimate(c.score)
        hits.append(
            record_as(
                Hit,
                rec,
                rank=len(hits) + 1,
                face_id=rec.id,
                similarity=c.similarity,
                estimated_fmr=None if fmr is None else fmr.fmr,
                estimated_fmr_upper=None if fmr is None else fmr.fmr_upper,
                score=None if scorer is None else c.score,
                estimated_fpir=None
                if scorer is None
                else scorer.fpir.estimate(c.score, gallery_size),
            )
        )
    return SearchResult(
        model_id=setup.model_id,
        probe_faces=tuple(probe_faces),
        selected=selected,
        threshold=threshold,
        threshold_source=source,
        hits=tuple(hits),
        gallery_size=gallery_size,
        threshold_fpir=None if scorer is None else scorer.fpir.estimate(threshold, gallery_size),
        fair_scoring=scorer is not None,
    )
