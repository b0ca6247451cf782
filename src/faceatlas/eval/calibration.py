"""Calibration: the score-to-false-match-rate mapping, and the threshold at a target FMR.

Impostor comparisons are every pair of photos of two different people in the
calibration corpora (each person capped at ``max_per_identity`` photos). The
mapping answers "what share of different-person pairs score this high?"; the
threshold is the lowest similarity at which that share is at most the target.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from faceatlas.errors import InvalidRequestError
from faceatlas.eval.embedded import EmbeddedCorpus, cross_identity_scores, identity_codes
from faceatlas.eval.metrics import threshold_at_far
from faceatlas.eval.rates import Rate, rate
from faceatlas.search import FmrMapping
from faceatlas.search.fairness import FairScorer
from faceatlas.store.calibrations import CalibrationRecord
from faceatlas.types import picked, record, record_as

__all__ = [
    "DEFAULT_TARGET_FMR",
    "Calibration",
    "calibrate",
    "fit_stamp",
    "float32_ceil",
    "impostor_scores",
    "require_resolvable",
    "scorer_calibration",
]

DEFAULT_TARGET_FMR = 1e-5
DEFAULT_MAX_PER_IDENTITY = 10
SCORING_COSINE = "cosine"
SCORING_FAIR = "fair"
"""What a calibration's scores are (``provenance["scoring"]``; older ones: cosine)."""
MIN_EXPECTED_FALSE_MATCHES = 10
"""Refuse a target FMR the data cannot resolve: at least this many false matches must be
expected at the target (comparisons * target), or the threshold is noise."""


@record
class Calibration:
    model_id: str
    target_fmr: float
    threshold: float
    mapping: FmrMapping
    at_threshold: Rate
    provenance: dict[str, Any]

    def fmr_at(self, similarity: float) -> Rate:
        """Observed FMR (with interval) when accepting ``score >= similarity``."""
        return rate(self.mapping.count_at(similarity), self.mapping.comparisons)

    def threshold_at(self, fmr: float) -> float:
        """Lowest grid similarity whose observed FMR is at most ``fmr`` (grid resolution)."""
        counts = self.mapping.false_matches
        ok = np.nonzero(counts <= fmr * self.mapping.comparisons)[0]
        return float(self.mapping.grid[ok[0]]) if len(ok) else 1.0

    def record(self) -> CalibrationRecord:
        return CalibrationRecord(
            model_id=self.model_id,
            target_fmr=self.target_fmr,
            threshold=self.threshold,
            comparisons=self.at_threshold.trials,
            false_matches=self.at_threshold.errors,
            mapping=self.mapping.as_dict(),
            provenance=self.provenance,
        )

    @classmethod
    def from_record(cls, record: CalibrationRecord) -> Calibration:
        return cls(
            model_id=record.model_id,
            target_fmr=record.target_fmr,
            threshold=record.threshold,
            mapping=FmrMapping.from_dict(record.mapping),
            at_threshold=rate(record.false_matches, record.comparisons),
            provenance=record.provenance,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **picked(self, "model_id", "target_fmr", "threshold"),
            "fmr_at_threshold": self.at_threshold.as_dict(),
            "provenance": self.provenance,
        }


def float32_ceil(value: float) -> float:
    """The smallest float32 at or above ``value``.

    Similarities are float32 everywhere (index, embeddings); a float64 threshold between
    two float32 values would round down to an impostor score and accept it."""
    rounded = np.float32(value)
    if float(rounded) < value:
        rounded = np.nextafter(rounded, np.float32(np.inf))
    return float(rounded)


def impostor_scores(
    corpora: Sequence[EmbeddedCorpus], max_per_identity: int = DEFAULT_MAX_PER_IDENTITY
) -> np.ndarray:
    """Scores of all different-person pairs across ``corpora`` (one pooled set), ``float32``.

    Identities are namespaced by corpus, so people of two corpora count as different.
    """
    parts = [c.usable().capped(max_per_identity) for c in corpora]
    if not parts:
        return np.zeros(0, np.float32)
    vectors = np.concatenate([p.vectors for p in parts])
    names = [f"{p.corpus.name}|{i}" for p in parts for i in p.corpus.identities]
    offsets = [p.offsets for p in parts if p.offsets is not None]
    fair = np.concatenate(offsets) if len(offsets) == len(parts) else None
    return cross_identity_scores(vectors, identity_codes(names), fair)


def fit_stamp() -> dict[str, str]:
    """When, and under which Python, a calibration or a fair scorer was fitted (provenance)."""
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }


def require_resolvable(comparisons: int, target_fmr: float, hint: str = "") -> None:
    """Refuse a target FMR that ``comparisons`` impostor pairs cannot resolve
    (:data:`MIN_EXPECTED_FALSE_MATCHES`); ``hint`` ends the message."""
    needed = int(np.ceil(MIN_EXPECTED_FALSE_MATCHES / target_fmr))
    if comparisons < needed:
        raise InvalidRequestError(
            f"{comparisons:,} impostor comparisons cannot resolve FMR {target_fmr:g}; "
            f"at least {needed:,} are needed{hint}"
        )


def scorer_calibration(scorer: FairScorer) -> Calibration:
    """The calibration a fair scorer carries: its threshold and fair-score FMR mapping."""
    return record_as(
        Calibration,
        scorer,
        mapping=scorer.fmr,
        at_threshold=rate(scorer.fmr.count_at(scorer.threshold), scorer.fmr.comparisons),
        provenance={**scorer.provenance, "scoring": SCORING_FAIR},
    )


def calibrate(
    model_id: str,
    corpora: Sequence[EmbeddedCorpus],
    *,
    target_fmr: float = DEFAULT_TARGET_FMR,
    max_per_identity: int = DEFAULT_MAX_PER_IDENTITY,
    split: str = "",
) -> Calibration:
    """Estimate the mapping from impostor pairs of ``corpora`` and pick the threshold."""
    if not 0.0 < target_fmr < 1.0:
        raise InvalidRequestError("target FMR must be between 0 and 1")
    scores = impostor_scores(corpora, max_per_identity)
    require_resolvable(len(scores), target_fmr, " (add people or raise the target)")
    threshold = float32_ceil(threshold_at_far(scores, target_fmr))
    mapping = FmrMapping.from_scores(scores)
    false_matches = int((scores >= threshold).sum())
    provenance: dict[str, Any] = {
        "method": "all pairs of photos of different people, pooled; threshold = lowest "
        "similarity whose observed FMR is at most the target",
        "corpora": [c.usable().capped(max_per_identity).summary() for c in corpora],
        "max_photos_per_person": max_per_identity,
        "split": split,
        "impostor_comparisons": len(scores),
        "scoring": SCORING_FAIR if all(c.offsets is not None for c in corpora) else SCORING_COSINE,
        **fit_stamp(),
    }
    return Calibration(
        model_id=model_id,
        target_fmr=target_fmr,
        threshold=threshold,
        mapping=mapping,
        at_threshold=rate(false_matches, len(scores)),
        provenance=provenance,
    )
