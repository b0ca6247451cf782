"""Verification metrics over similarity scores (higher = more alike).

``labels`` are 1 for genuine (mated) pairs, 0 for impostor (non-mated) pairs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from faceatlas.types import record

__all__ = [
    "DetCurve",
    "RocCurve",
    "auc",
    "best_accuracy_threshold",
    "det_curve",
    "equal_error_rate",
    "fnmr_at_fmr",
    "k_fold_accuracy",
    "roc_curve",
    "tar_at_far",
    "threshold_at_far",
]

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int_]


@record
class RocCurve:
    """Points in order of decreasing threshold; ``far[i]``/``tar[i]`` accept ``score >= threshold[i]``."""

    thresholds: Scores
    far: Scores
    tar: Scores


def roc_curve(scores: Scores, labels: Labels) -> RocCurve:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    n_pos = int(labels.sum())
    n_neg = int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC needs both genuine and impostor scores")
    order = np.argsort(-scores, kind="mergesort")
    s = scores[order]
    y = labels[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(y)[distinct]
    fp = np.cumsum(~y)[distinct]
    thresholds = np.r_[np.inf, s[distinct]]
    return RocCurve(thresholds=thresholds, far=np.r_[0.0, fp / n_neg], tar=np.r_[0.0, tp / n_pos])


def auc(curve: RocCurve) -> float:
    return float(np.trapezoid(curve.tar, curve.far))


def threshold_at_far(impostor_scores: Scores, far: float) -> float:
    """Smallest threshold whose false-accept rate (``score >= t``) is at most ``far``."""
    imp = np.sort(np.asarray(impostor_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(far * len(imp)))
    if allowed >= len(imp):
        return float(imp[-1])
    # Accept strictly above the (allowed+1)-th highest impostor score.
    return float(np.nextafter(imp[allowed], np.inf))


def tar_at_far(scores: Scores, labels: Labels, far: float) -> tuple[float, float]:
    """``(TAR, threshold)`` at the threshold where FAR is at most ``far``."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    t = threshold_at_far(scores[~labels], far)
    return float((scores[labels] >= t).mean()), t


def best_accuracy_threshold(scores: Scores, labels: Labels) -> float:
    """The threshold (accept ``score >= t``) that maximises accuracy, midway between scores."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    s = np.unique(scores)
    candidates = np.r_[s[0] - 1e-6, (s[:-1] + s[1:]) / 2.0, s[-1] + 1e-6]
    order = np.argsort(scores)
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    # For each candidate t: correct = positives with score >= t + negatives with score < t.
    idx = np.searchsorted(sorted_scores, candidates, side="left")
    neg_below = np.r_[0, np.cumsum(~sorted_labels)][idx]
    pos_below = np.r_[0, np.cumsum(sorted_labels)][idx]
    correct = neg_below + (labels.sum() - pos_below)
    return float(candidates[int(np.argmax(correct))])


def k_fold_accuracy(
    scores: Scores, labels: Labels, folds: npt.NDArray[np.int_]
) -> tuple[list[float], list[float]]:
    """Per-fold accuracy with the threshold chosen on the other folds; returns (accuracies, thresholds)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    accuracies: list[float] = []
    thresholds: list[float] = []
    for k in np.unique(folds):
        test = folds == k
        t = best_accuracy_threshold(scores[~test], labels[~test])
        predicted = scores[test] >= t
        accuracies.append(float((predicted == labels[test]).mean()))
        thresholds.append(t)
    return accuracies, thresholds


@record
class DetCurve:
    """Detection error trade-off: ``fnmr[i]`` against ``fmr[i]`` when accepting ``score >= thresholds[i]``."""

    thresholds: Scores
    fmr: Scores
    fnmr: Scores


def det_curve(scores: Scores, labels: Labels) -> DetCurve:
    roc = roc_curve(scores, labels)
    return DetCurve(thresholds=roc.thresholds, fmr=roc.far, fnmr=1.0 - roc.tar)


def equal_error_rate(scores: Scores, labels: Labels) -> tuple[float, float]:
    """``(EER, threshold)``: the operating point where FMR and FNMR are closest.

    The EER is the mean of the two rates at the threshold where their gap is
    smallest among the curve's own points (no interpolation).
    """
    det = det_curve(scores, labels)
    gap = np.abs(det.fmr - det.fnmr)
    i = int(np.argmin(gap))
    return float((det.fmr[i] + det.fnmr[i]) / 2.0), float(det.thresholds[i])


def fnmr_at_fmr(scores: Scores, labels: Labels, fmr: float) -> tuple[float, float]:
    """``(FNMR, threshold)`` at the lowest threshold whose FMR is at most ``fmr``."""
    tar, t = tar_at_far(scores, labels, fmr)
    return 1.0 - tar, t
