"""LFW View 2 verification: the standard 10-fold protocol.

For each fold the accuracy threshold is chosen on the other nine and applied
to it. Reported: mean accuracy with standard deviation and standard error
over folds, ROC AUC and TAR at FAR = 1e-3 over all pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas.engine import EngineSpec
from faceatlas.eval.datasets import LfwPair, read_lfw_pairs
from faceatlas.eval.embed import EmbeddingSet, embed_photos
from faceatlas.eval.metrics import auc, k_fold_accuracy, roc_curve, tar_at_far
from faceatlas.types import record

__all__ = ["VerificationReport", "pair_scores", "run_lfw", "verification_report"]


@record
class VerificationReport:
    model_id: str
    pairs: int
    folds: int
    fold_accuracies: tuple[float, ...]
    fold_thresholds: tuple[float, ...]
    roc_auc: float
    tar_at_far_1e3: float
    threshold_at_far_1e3: float
    fallback_faces: int
    unreadable: int

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean(self.fold_accuracies))

    @property
    def std_accuracy(self) -> float:
        return float(np.std(self.fold_accuracies, ddof=1)) if len(self.fold_accuracies) > 1 else 0.0

    @property
    def stderr_accuracy(self) -> float:
        return self.std_accuracy / float(np.sqrt(len(self.fold_accuracies)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": "LFW View 2, threshold chosen on the other folds",
            "model_id": self.model_id,
            "pairs": self.pairs,
            "folds": self.folds,
            "mean_accuracy": round(self.mean_accuracy, 5),
            "std_accuracy": round(self.std_accuracy, 5),
            "stderr_accuracy": round(self.stderr_accuracy, 5),
            "fold_accuracies": [round(a, 5) for a in self.fold_accuracies],
            "fold_thresholds": [round(t, 5) for t in self.fold_thresholds],
            "roc_auc": round(self.roc_auc, 6),
            "tar_at_far_1e-3": round(self.tar_at_far_1e3, 5),
            "threshold_at_far_1e-3": round(self.threshold_at_far_1e3, 5),
            "fallback_faces": self.fallback_faces,
            "unreadable_photos": self.unreadable,
        }


def pair_scores(pairs: Sequence[LfwPair], embeddings: EmbeddingSet) -> np.ndarray:
    where = embeddings.lookup()
    a = embeddings.vectors[[where[str(p.a.resolve())] for p in pairs]]
    b = embeddings.vectors[[where[str(p.b.resolve())] for p in pairs]]
    scores: np.ndarray = np.einsum("ij,ij->i", a.astype(np.float64), b.astype(np.float64))
    return scores


def verification_report(
    model_id: str,
    pairs: Sequence[LfwPair],
    scores: np.ndarray,
    fallback: int = 0,
    unreadable: int = 0,
) -> VerificationReport:
    labels = np.asarray([p.same for p in pairs], dtype=np.int_)
    folds = np.asarray([p.fold for p in pairs], dtype=np.int_)
    if len(np.unique(folds)) > 1:
        accuracies, thresholds = k_fold_accuracy(scores, labels, folds)
    else:
        accuracies, thresholds = k_fold_accuracy(scores, labels, np.arange(len(pairs)) % 10)
    tar, t = tar_at_far(scores, labels, 1e-3)
    return VerificationReport(
        model_id=model_id,
        pairs=len(pairs),
        folds=len(accuracies),
        fold_accuracies=tuple(accuracies),
        fold_thresholds=tuple(thresholds),
        roc_auc=auc(roc_curve(scores, labels)),
        tar_at_far_1e3=tar,
        threshold_at_far_1e3=t,
        fallback_faces=fallback,
        unreadable=unreadable,
    )


def select_pairs(pairs: Sequence[LfwPair], limit: int | None) -> list[LfwPair]:
    """All pairs, or ``limit`` of them spread evenly over every fold and both labels."""
    if limit is None or limit >= len(pairs):
        return list(pairs)
    groups: dict[tuple[int, bool], list[LfwPair]] = {}
    for p in pairs:
        groups.setdefault((p.fold, p.same), []).append(p)
    per_group = max(1, limit // len(groups))
    return [p for key in sorted(groups) for p in groups[key][:per_group]]


def run_lfw(
    pairs_file: Path,
    images_dir: Path,
    spec: EngineSpec,
    *,
    limit: int | None = None,
    workers: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerificationReport:
    pairs = select_pairs(read_lfw_pairs(pairs_file, images_dir), limit)
    photos = sorted({p.a for p in pairs} | {p.b for p in pairs})
    embeddings = embed_photos(photos, spec, workers=workers, cache_dir=cache_dir, progress=progress)
    from faceatlas.engine import create_engine

    scores = pair_scores(pairs, embeddings)
    return verification_report(
        create_engine(spec).model_id,
        pairs,
        scores,
        fallback=embeddings.fallback_count,
        unreadable=embeddings.failed_count,
    )
