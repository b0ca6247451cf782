"""Clustering quality against true identities: pairwise and BCubed precision/recall/F1.

Items left unassigned by a clusterer count as singleton clusters of their own.
Both families are computed from the contingency table of (true, predicted)
labels, so they cost O(n), not O(n^2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

from faceatlas.types import JsonRecord, record

__all__ = ["ClusterScores", "score_clusters"]


@record
class ClusterScores(JsonRecord):
    items: int
    true_clusters: int
    predicted_clusters: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float

    DIGITS: ClassVar[int] = 4


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score_clusters(truth: Sequence[object], predicted: Sequence[object | None]) -> ClusterScores:
    """Score ``predicted[i]`` (``None``: unassigned) against ``truth[i]``."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    n = len(truth)
    labels: list[object] = [
        p if p is not None else ("__unassigned__", i) for i, p in enumerate(predicted)
    ]
    joint = Counter(zip(truth, labels, strict=True))
    true_sizes = Counter(truth)
    pred_sizes = Counter(labels)
    same_both = sum(_pairs(c) for c in joint.values())
    same_pred = sum(_pairs(c) for c in pred_sizes.values())
    same_true = sum(_pairs(c) for c in true_sizes.values())
    pp = same_both / same_pred if same_pred else 1.0
    pr = same_both / same_true if same_true else 1.0
    bp = sum(c * c / pred_sizes[p] for (_, p), c in joint.items()) / n if n else 1.0
    br = sum(c * c / true_sizes[t] for (t, _), c in joint.items()) / n if n else 1.0
    return ClusterScores(
        items=n,
        true_clusters=len(true_sizes),
        predicted_clusters=len(pred_sizes),
        pairwise_precision=pp,
        pairwise_recall=pr,
        pairwise_f1=_f1(pp, pr),
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f1=_f1(bp, br),
    )
