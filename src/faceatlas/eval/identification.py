"""1:N identification metrics in the manner of NIST FRTE (NIST IR 8271).

A *mated* search has its true identity enrolled in the gallery; a
*non-mated* search does not. With a threshold ``T`` (accept ``score >= T``)
and a rank limit ``R``:

* FPIR(T): fraction of non-mated searches returning any candidate ``>= T``;
* FNIR(T, R): fraction of mated searches whose mate is not returned at rank
  ``<= R`` with score ``>= T``;
* CMC(k): fraction of mated searches whose mate is at rank ``<= k`` (no threshold).

Ranks are pessimistic: a gallery entry that ties the mate's score ranks above it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from faceatlas.eval.metrics import Scores, threshold_at_far
from faceatlas.search.fairness import stricter_offsets
from faceatlas.types import Vectors, record

__all__ = [
    "SearchOutcomes",
    "cmc",
    "fnir",
    "fnir_at_fpir",
    "fpir",
    "search_outcomes",
    "with_distractors",
]

Ints = npt.NDArray[np.int64]

BLOCK = 2048


@record
class SearchOutcomes:
    """What each search returned, reduced to what the metrics need.

    ``mate_scores[i]`` / ``mate_ranks[i]`` (1-based): the mate of mated search ``i``;
    ``nonmated_top[j]``: the best score of non-mated search ``j``;
    ``gallery_size``: entries searched.
    """

    mate_scores: Scores
    mate_ranks: Ints
    nonmated_top: Scores
    gallery_size: int


Offsets = npt.NDArray[np.float32] | None


def _similarities(
    a: Vectors, b: Vectors, a_offsets: Offsets = None, b_offsets: Offsets = None
) -> Scores:
    """Cosine ``(len(a), len(b))``, or the fair score when both offsets are given."""
    out: Scores = a.astype(np.float64) @ b.astype(np.float64).T
    if a_offsets is not None and b_offsets is not None:
        out -= stricter_offsets(a_offsets, b_offsets).astype(np.float64)
    return out


def _rows(offsets: Offsets, start: int) -> Offsets:
    return None if offsets is None else offsets[start : start + BLOCK]


def search_outcomes(
    gallery: Vectors,
    mated: Vectors,
    mate_index: npt.NDArray[np.int_],
    nonmated: Vectors,
    offsets: tuple[Offsets, Offsets, Offsets] = (None, None, None),
) -> SearchOutcomes:
    """Exhaustive search of every probe against the gallery (unit vectors, ``(n, dim)``);
    ``offsets`` (gallery, mated, non-mated) switch to the fair score."""
    g_off, m_off, n_off = offsets
    mate_index = np.asarray(mate_index, dtype=np.int64)
    if len(mate_index) != len(mated):
        raise ValueError("one mate index per mated probe is needed")
    mate_scores = np.empty(len(mated), np.float64)
    mate_ranks = np.empty(len(mated), np.int64)
    for start in range(0, len(mated), BLOCK):
        s = _similarities(mated[start : start + BLOCK], gallery, _rows(m_off, start), g_off)
        rows = np.arange(len(s))
        mine = s[rows, mate_index[start : start + BLOCK]]
        above = (s >= mine[:, None]).sum(axis=1) - 1  # ties rank above the mate
        mate_scores[start : start + BLOCK] = mine
        mate_ranks[start : start + BLOCK] = above + 1
    top = np.full(len(nonmated), -np.inf)
    for start in range(0, len(nonmated), BLOCK):
        s = _similarities(nonmated[start : start + BLOCK], gallery, _rows(n_off, start), g_off)
        top[start : start + BLOCK] = s.max(axis=1) if s.shape[1] else -np.inf
    return SearchOutcomes(mate_scores, mate_ranks, top, len(gallery))


def with_distractors(
    base: SearchOutcomes,
    mated: Vectors,
    nonmated: Vectors,
    distractors: Vectors,
    offsets: tuple[Offsets, Offsets, Offsets] = (None, None, None),
) -> SearchOutcomes:
    """The outcomes once ``distractors`` (people in no probe) join the gallery;
    ``offsets`` (mated, non-mated, distractors) as in :func:`search_outcomes`."""
    m_off, n_off, d_off = offsets
    ranks = base.mate_ranks.copy()
    top = base.nonmated_top.copy()
    if len(distractors):
        for start in range(0, len(mated), BLOCK):
            s = _similarities(mated[start : start + BLOCK], distractors, _rows(m_off, start), d_off)
            mine = base.mate_scores[start : start + BLOCK]
            ranks[start : start + BLOCK] += (s >= mine[:, None]).sum(axis=1)
        for start in range(0, len(nonmated), BLOCK):
            s = _similarities(
                nonmated[start : start + BLOCK], distractors, _rows(n_off, start), d_off
            )
            top[start : start + BLOCK] = np.maximum(top[start : start + BLOCK], s.max(axis=1))
    return SearchOutcomes(base.mate_scores, ranks, top, base.gallery_size + len(distractors))


def cmc(outcomes: SearchOutcomes, ranks: Sequence[int]) -> dict[int, float]:
    """Identification rate at each rank ``k``: mate found at rank ``<= k``."""
    return {int(k): float((outcomes.mate_ranks <= k).mean()) for k in ranks}


def fpir(outcomes: SearchOutcomes, threshold: float) -> float:
    return float((outcomes.nonmated_top >= threshold).mean())


def fnir(outcomes: SearchOutcomes, threshold: float, rank: int = 1) -> float:
    found = (outcomes.mate_ranks <= rank) & (outcomes.mate_scores >= threshold)
    return float(1.0 - found.mean())


def fnir_at_fpir(
    outcomes: SearchOutcomes, target_fpir: float, rank: int = 1
) -> tuple[float, float]:
    """``(FNIR, threshold)`` at the lowest threshold whose FPIR is at most ``target_fpir``."""
    t = threshold_at_far(outcomes.nonmated_top, target_fpir)
    return fnir(outcomes, t, rank), t
