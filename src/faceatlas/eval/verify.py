"""The verify suite: 1:1 verification on LFW View 2, with ROC, DET, EER and FNMR at FMR.

Two impostor sets are reported. *View 2* is the standard 3,000 mismatched
pairs; they cannot resolve FMR below 1/3,000, which the result says. *Extended*
keeps the 3,000 mated pairs and takes as impostors every pair of different
people among the View 2 photos (millions), which resolves FMR = 1e-4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from faceatlas.eval.datasets import LfwPair
from faceatlas.eval.embedded import cross_identity_scores, identity_codes
from faceatlas.eval.lfw import VerificationReport, verification_report
from faceatlas.eval.metrics import det_curve, equal_error_rate, fnmr_at_fmr
from faceatlas.eval.rates import rate
from faceatlas.search.fairness import paired_offsets
from faceatlas.types import JsonRecord, Vectors, record

__all__ = ["FMR_TARGETS", "ErrorTradeoff", "VerifyResult", "error_tradeoff", "run_verify"]

FMR_TARGETS = (1e-2, 1e-3, 1e-4)
PLOT_POINTS = 400


@record
class ErrorTradeoff:
    """EER, FNMR at each FMR target, and a thinned DET curve, for one score set."""

    name: str
    genuine: int
    impostors: int
    eer: float
    eer_threshold: float
    at_fmr: tuple[dict[str, Any], ...]
    curve_fmr: tuple[float, ...]
    curve_fnmr: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "genuine_pairs": self.genuine,
            "impostor_pairs": self.impostors,
            "eer": round(self.eer, 6),
            "eer_threshold": round(self.eer_threshold, 6),
            "fnmr_at_fmr": list(self.at_fmr),
        }


def error_tradeoff(name: str, genuine: np.ndarray, impostor: np.ndarray) -> ErrorTradeoff:
    scores = np.r_[np.asarray(genuine, np.float64), np.asarray(impostor, np.float64)]
    labels = np.r_[np.ones(len(genuine), np.int_), np.zeros(len(impostor), np.int_)]
    eer, eer_t = equal_error_rate(scores, labels)
    rows: list[dict[str, Any]] = []
    for target in FMR_TARGETS:
        _, t = fnmr_at_fmr(scores, labels, target)
        accepted_impostors = int((impostor >= t).sum())
        misses = int((genuine < t).sum())
        rows.append(
            {
                "target_fmr": target,
                "threshold": round(t, 6),
                "fnmr": rate(misses, len(genuine)).as_dict(),
                "fmr": rate(accepted_impostors, len(impostor)).as_dict(),
                "resolvable": len(impostor) * target >= 1.0,
            }
        )
    det = det_curve(scores, labels)
    keep = np.unique(np.linspace(0, len(det.fmr) - 1, PLOT_POINTS).astype(int))
    return ErrorTradeoff(
        name=name,
        genuine=len(genuine),
        impostors=len(impostor),
        eer=eer,
        eer_threshold=eer_t,
        at_fmr=tuple(rows),
        curve_fmr=tuple(float(v) for v in det.fmr[keep]),
        curve_fnmr=tuple(float(v) for v in det.fnmr[keep]),
    )


@record
class VerifyResult(JsonRecord):
    accuracy: VerificationReport
    view2: ErrorTradeoff
    extended: ErrorTradeoff


def run_verify(
    model_id: str,
    pairs: Sequence[LfwPair],
    paths: Sequence[str],
    vectors: Vectors,
    *,
    fallback: int = 0,
    unreadable: int = 0,
    offsets: npt.NDArray[np.float32] | None = None,
) -> VerifyResult:
    """``paths[i]`` (resolved) is embedded as ``vectors[i]``; every pair photo must be there."""
    where = {p: i for i, p in enumerate(paths)}
    ia = [where[str(p.a.resolve())] for p in pairs]
    ib = [where[str(p.b.resolve())] for p in pairs]
    scores = np.einsum("ij,ij->i", vectors[ia].astype(np.float64), vectors[ib].astype(np.float64))
    if offsets is not None:
        scores = scores - paired_offsets(offsets[ia], offsets[ib])
    same = np.asarray([p.same for p in pairs])
    accuracy = verification_report(model_id, pairs, scores, fallback, unreadable)
    view2 = error_tradeoff("LFW View 2 pairs", scores[same], scores[~same])
    photos = sorted({str(p.a.resolve()) for p in pairs} | {str(p.b.resolve()) for p in pairs})
    idx = [where[p] for p in photos]
    people = [_lfw_person(p) for p in photos]
    impostors = cross_identity_scores(
        vectors[idx], identity_codes(people), None if offsets is None else offsets[idx]
    )
    extended = error_tradeoff(
        "View 2 mated pairs vs all different-person pairs of View 2 photos",
        scores[same],
        impostors,
    )
    return VerifyResult(accuracy, view2, extended)


def _lfw_person(path: str) -> str:
    # .../images/<Name>/<Name>_NNNN.jpg
    return path.rsplit("/", 2)[-2]
