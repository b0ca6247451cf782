"""The identify suite: 1:N search in the manner of NIST FRTE.

From a labelled corpus: every person with two or more photos is enrolled
with their first photo (the gallery) and searched with each other photo
(mated searches); every person with exactly one photo is searched as a
non-mated probe. Optional distractors (photos of people in no search) are
then added to the gallery step by step, to show how misses and false
positives grow with gallery size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from faceatlas.errors import InvalidRequestError
from faceatlas.eval.embedded import EmbeddedCorpus
from faceatlas.eval.identification import (
    SearchOutcomes,
    cmc,
    fnir,
    fnir_at_fpir,
    fpir,
    search_outcomes,
    with_distractors,
)
from faceatlas.eval.rates import rate
from faceatlas.types import picked, record

__all__ = [
    "CMC_RANKS",
    "FPIR_TARGETS",
    "GallerySplit",
    "IdentifyResult",
    "gallery_split",
    "run_identify",
]

CMC_RANKS = (1, 5, 20)
FPIR_TARGETS = (0.01, 0.003)
PLOT_POINTS = 300


@record
class GallerySplit:
    """Indices into the corpus: enrolled photos, mated probes (with their gallery row), non-mated."""

    gallery: list[int]
    mated: list[int]
    mate_row: list[int]
    nonmated: list[int]


def gallery_split(corpus: EmbeddedCorpus) -> GallerySplit:
    gallery: list[int] = []
    mated: list[int] = []
    mate_row: list[int] = []
    nonmated: list[int] = []
    for indices in corpus.corpus.by_identity().values():
        if len(indices) == 1:
            nonmated.append(indices[0])
            continue
        row = len(gallery)
        gallery.append(indices[0])
        mated.extend(indices[1:])
        mate_row.extend([row] * (len(indices) - 1))
    return GallerySplit(gallery, mated, mate_row, nonmated)


@record
class IdentifyResult:
    corpus: str
    gallery_people: int
    mated_searches: int
    nonmated_searches: int
    cmc: dict[int, float]
    at_fpir: tuple[dict[str, Any], ...]
    at_threshold: dict[str, Any] | None
    distractor_steps: tuple[dict[str, Any], ...]
    curve_fpir: tuple[float, ...]
    curve_fnir: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            **picked(self, "corpus", "gallery_people", "mated_searches", "nonmated_searches"),
            "cmc": {f"rank_{k}": round(v, 5) for k, v in self.cmc.items()},
            "fnir_at_fpir": list(self.at_fpir),
            "at_calibrated_threshold": self.at_threshold,
            "distractors": list(self.distractor_steps),
        }


def _operating_points(outcomes: SearchOutcomes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    n_mated = len(outcomes.mate_scores)
    n_non = len(outcomes.nonmated_top)
    for target in FPIR_TARGETS:
        miss, t = fnir_at_fpir(outcomes, target, rank=1)
        rows.append(
            {
                "target_fpir": target,
                "threshold": round(t, 6),
                "fnir": rate(round(miss * n_mated), n_mated).as_dict(),
                "fpir": rate(int((outcomes.nonmated_top >= t).sum()), n_non).as_dict(),
                "resolvable": n_non * target >= 1.0,
            }
        )
    return rows


def _at_threshold(outcomes: SearchOutcomes, threshold: float) -> dict[str, Any]:
    n_mated = len(outcomes.mate_scores)
    n_non = len(outcomes.nonmated_top)
    return {
        "threshold": round(threshold, 6),
        "fnir_rank1": rate(round(fnir(outcomes, threshold) * n_mated), n_mated).as_dict(),
        "fpir": rate(round(fpir(outcomes, threshold) * n_non), n_non).as_dict(),
    }


def run_identify(
    people: EmbeddedCorpus,
    *,
    distractors: EmbeddedCorpus | None = None,
    distractor_steps: Sequence[int] = (),
    threshold: float | None = None,
) -> IdentifyResult:
    """Run the suite; ``threshold`` (e.g. the calibrated one) adds a fixed operating point."""
    usable = people.usable()
    split = gallery_split(usable)
    if not split.gallery or not split.mated or not split.nonmated:
        raise InvalidRequestError(
            "identification needs people with two or more photos and people with one photo"
        )
    gallery = usable.vectors[split.gallery]
    mated = usable.vectors[split.mated]
    nonmated = usable.vectors[split.nonmated]
    off = usable.offsets
    g_off, m_off, n_off = (
        (None, None, None)
        if off is None
        else (off[split.gallery], off[split.mated], off[split.nonmated])
    )
    base = search_outcomes(
        gallery, mated, np.asarray(split.mate_row), nonmated, (g_off, m_off, n_off)
    )
    steps: list[dict[str, Any]] = []
    if distractors is not None:
        extra_set = distractors.usable()
        extra = extra_set.vectors
        d_off = extra_set.offsets
        sizes = sorted({0, *(min(int(s), len(extra)) for s in distractor_steps), len(extra)})
        for size in sizes:
            out = with_distractors(
                base,
                mated,
                nonmated,
                extra[:size],
                (m_off, n_off, None if d_off is None else d_off[:size]),
            )
            miss, _ = fnir_at_fpir(out, FPIR_TARGETS[0])
            row: dict[str, Any] = {
                "distractors": size,
                "gallery_size": out.gallery_size,
                "rank1_miss_rate": round(1.0 - cmc(out, (1,))[1], 5),
                "fnir_at_fpir_0.01": round(miss, 5),
            }
            if threshold is not None:
                row["fpir_at_threshold"] = round(fpir(out, threshold), 5)
                row["fnir_at_threshold"] = round(fnir(out, threshold), 5)
            steps.append(row)
    order = np.sort(base.nonmated_top)[::-1]
    picks = order[np.unique(np.linspace(0, len(order) - 1, PLOT_POINTS).astype(int))]
    curve_fpir = tuple(fpir(base, float(t)) for t in picks)
    curve_fnir = tuple(fnir(base, float(t)) for t in picks)
    return IdentifyResult(
        corpus=usable.corpus.name,
        gallery_people=len(split.gallery),
        mated_searches=len(split.mated),
        nonmated_searches=len(split.nonmated),
        cmc=cmc(base, CMC_RANKS),
        at_fpir=tuple(_operating_points(base)),
        at_threshold=None if threshold is None else _at_threshold(base, threshold),
        distractor_steps=tuple(steps),
        curve_fpir=curve_fpir,
        curve_fnir=curve_fnir,
    )
