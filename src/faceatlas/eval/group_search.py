"""Searches by group: how often a search of a person in each group shows a stranger as a lead.

The demographics suite counts false matches per *comparison*, the rate a threshold is
calibrated on. What an investigator meets is the *search*: one probe against every face of
an atlas. Here one photo of each person of a labelled set (its held-out half) is searched
against a gallery of every face of that set and of the other data sets given (as an atlas
would hold them). Per group and threshold:

* **stranger lead** (FPIR): the search returns somebody else at or above the threshold;
* **wrong person on top**: the first candidate is at or above the threshold and is
  somebody else (the person's own other photos stay in the gallery; where a data set has
  one photo per person the two rates coincide).

Beside each stands what every search's own estimate predicts at this gallery size (the
fair scorer's FPIR mapping, the same for everybody): a group whose measured rate lies above
its interval is one the estimate under-warns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from faceatlas.errors import InvalidRequestError
from faceatlas.eval.embedded import EmbeddedCorpus, identity_codes, pooled, score_block
from faceatlas.eval.rates import Rate, rate
from faceatlas.search.fairness import FairScorer
from faceatlas.types import JsonRecord, record

__all__ = ["GroupSearch", "GroupSearchResult", "run_group_search", "top_scores"]

BLOCK = 512
MIN_GROUP_SEARCHES = 2


@record
class GroupSearch(JsonRecord):
    group: str
    searches: int
    stranger_lead: dict[str, Rate]
    wrong_on_top: dict[str, Rate]


@record
class GroupSearchResult:
    corpus: str
    attribute: str
    gallery_size: int
    thresholds: dict[str, float]
    groups: tuple[GroupSearch, ...]
    estimate: dict[str, dict[str, Any]]

    def ratio(self, threshold_name: str) -> float | None:
        """Worst group's stranger-lead rate over the best's; None where the best is zero."""
        values = [g.stranger_lead[threshold_name].value for g in self.groups]
        return max(values) / min(values) if values and min(values) > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus,
            "attribute": self.attribute,
            "gallery_size": self.gallery_size,
            "thresholds": {k: round(v, 6) for k, v in self.thresholds.items()},
            "groups": [g.as_dict() for g in self.groups],
            "search_estimate_fpir": self.estimate,
            "worst_to_best": {
                n: None if (r := self.ratio(n)) is None else round(r, 3) for n in self.thresholds
            },
        }


def top_scores(
    gallery: EmbeddedCorpus, codes: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Search the gallery photos ``rows`` against the rest of the gallery (``codes``: each
    photo's person). For each probe: the top score of anybody else (``stranger_top``), and the
    top score of anybody at all where that first candidate is somebody else (``wrong_top``,
    ``-inf`` where the first candidate is the person)."""
    stranger = np.empty(len(rows), np.float64)
    wrong = np.empty(len(rows), np.float64)
    for start in range(0, len(rows), BLOCK):
        block = rows[start : start + BLOCK]
        s = score_block(
            gallery.vectors[block],
            gallery.vectors,
            None if gallery.offsets is None else gallery.offsets[block],
            gallery.offsets,
        ).astype(np.float64)
        s[np.arange(len(block)), block] = -np.inf  # the probe photo itself
        best = s.max(axis=1)
        others = np.where(codes[block, None] == codes[None, :], -np.inf, s).max(axis=1)
        stranger[start : start + len(block)] = others
        wrong[start : start + len(block)] = np.where(others >= best, best, -np.inf)
    return stranger, wrong


def run_group_search(
    labelled: EmbeddedCorpus,
    attribute: str,
    thresholds: Mapping[str, float],
    *,
    others: Sequence[EmbeddedCorpus] = (),
    scorer: FairScorer | None = None,
) -> GroupSearchResult:
    """Search one photo of each person of ``labelled`` (grouped by ``attribute``) against
    every usable face of ``labelled`` and ``others``; the probe photo itself is left out."""
    if attribute not in labelled.corpus.groups:
        raise InvalidRequestError(f"{labelled.corpus.name} has no {attribute!r} labels")
    data = labelled.usable()
    gallery = pooled([data, *(o.usable() for o in others)])
    codes = identity_codes(gallery.corpus.identities)
    firsts = np.asarray([idx[0] for idx in data.corpus.by_identity().values()], np.int64)
    stranger, wrong = top_scores(gallery, codes, firsts)
    labels = data.corpus.groups[attribute]
    groups: list[GroupSearch] = []
    for group in sorted({labels[i] for i in firsts if labels[i] is not None}):
        mine = np.asarray([labels[i] == group for i in firsts])
        if int(mine.sum()) < MIN_GROUP_SEARCHES:
            continue
        groups.append(
            GroupSearch(
                group=str(group),
                searches=int(mine.sum()),
                stranger_lead={
                    n: rate(int((stranger[mine] >= t).sum()), int(mine.sum()))
                    for n, t in thresholds.items()
                },
                wrong_on_top={
                    n: rate(int((wrong[mine] >= t).sum()), int(mine.sum()))
                    for n, t in thresholds.items()
                },
            )
        )
    size = len(gallery.vectors) - 1
    estimate = (
        {}
        if scorer is None
        else {n: scorer.fpir.estimate(float(t), size).as_dict() for n, t in thresholds.items()}
    )
    return GroupSearchResult(
        corpus=data.corpus.name,
        attribute=attribute,
        gallery_size=size,
        thresholds={n: float(t) for n, t in thresholds.items()},
        groups=tuple(groups),
        estimate=estimate,
    )
