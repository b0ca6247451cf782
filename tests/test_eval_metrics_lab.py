"""Metric code of the evaluation lab against small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from faceatlas.engine.dlib_engine import DLIB_MODEL_ID
from faceatlas.engine.sface_engine import SFACE_MODEL_ID
from faceatlas.errors import InvalidRequestError
from faceatlas.eval.audit import (
    LAX_SIMILARITY,
    REFERENCE_2018_FMR,
    lax_similarity,
    predicted_fpir,
    run_audit,
)
from faceatlas.eval.calibration import calibrate
from faceatlas.eval.corpus import Corpus, Half, split_identities
from faceatlas.eval.embedded import (
    EmbeddedCorpus,
    count_cross_identity_above,
    cross_identity_scores,
    identity_codes,
    same_identity_scores,
)
from faceatlas.eval.identification import (
    cmc,
    fnir,
    fnir_at_fpir,
    fpir,
    search_outcomes,
    with_distractors,
)
from faceatlas.eval.metrics import det_curve, equal_error_rate, fnmr_at_fmr
from faceatlas.eval.rates import rate, wilson_interval
from faceatlas.search import FmrMapping


def unit(*degrees: float) -> np.ndarray:
    """2-d unit vectors at the given angles: similarity of two is the cosine of their angle."""
    r = np.radians(degrees)
    return np.stack([np.cos(r), np.sin(r)], axis=1).astype(np.float32)


def test_wilson_interval_by_hand() -> None:
    z2 = 1.959963984540054**2
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(z2 / (10 + z2))  # the zero-error upper bound
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    r = rate(3, 1000)
    assert r.value == 0.003 and r.low < 0.003 < r.high
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_det_and_eer_by_hand() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    labels = np.array([1, 1, 0, 1, 0, 0])
    det = det_curve(scores, labels)
    assert det.fmr.tolist() == pytest.approx([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    assert det.fnmr.tolist() == pytest.approx([1, 2 / 3, 1 / 3, 1 / 3, 0, 0, 0])
    eer, t = equal_error_rate(scores, labels)
    assert eer == pytest.approx(1 / 3) and t == pytest.approx(0.7)
    # one false match allowed of three impostors: accept above 0.5; all genuine pass
    fnmr, t = fnmr_at_fmr(scores, labels, 0.34)
    assert fnmr == 0.0 and 0.5 < t <= 0.6
    # none allowed: accept above 0.7; genuine 0.6 is missed
    fnmr, t = fnmr_at_fmr(scores, labels, 0.0)
    assert fnmr == pytest.approx(1 / 3) and 0.7 < t <= 0.8


def test_cmc_fnir_fpir_by_hand() -> None:
    gallery = unit(0, 90, 180)
    # mated probes and their mates: 10°->0° rank 1; 50°->0° rank 2 (90° is closer);
    # 100°->180° rank 2 (90° closer); 260°->90° rank 3
    mated = unit(10, 50, 100, 260)
    mates = np.array([0, 0, 2, 1])
    nonmated = unit(45, 200, 270)  # best scores: cos45, cos20, 0
    out = search_outcomes(gallery, mated, mates, nonmated)
    assert out.mate_ranks.tolist() == [1, 2, 2, 3]
    assert out.nonmated_top == pytest.approx(
        [math.cos(math.radians(45)), math.cos(math.radians(20)), 0.0], abs=1e-6
    )
    assert cmc(out, (1, 2, 3)) == {1: 0.25, 2: 0.75, 3: 1.0}
    assert fpir(out, 0.8) == pytest.approx(1 / 3)
    assert fpir(out, 0.5) == pytest.approx(2 / 3)
    assert fnir(out, 0.8) == pytest.approx(3 / 4)  # only 10° is rank 1 above 0.8
    assert fnir(out, 0.1, rank=3) == pytest.approx(1 / 4)  # 260° scores cos170 < 0.1
    miss, t = fnir_at_fpir(out, 0.0)  # no non-mated may pass: t just above cos20
    assert out.nonmated_top.max() < t < 0.95 and miss == pytest.approx(3 / 4)
    grown = with_distractors(out, mated, nonmated, unit(60))
    assert grown.gallery_size == 4
    # 60° outranks the mates of 50° and 100°, and of 260° (cos200 > cos170)
    assert grown.mate_ranks.tolist() == [1, 3, 3, 4]
    assert grown.nonmated_top[0] == pytest.approx(math.cos(math.radians(15)), abs=1e-6)


def test_pair_scores_and_counts_by_hand() -> None:
    vectors = unit(0, 10, 90, 100)
    codes = identity_codes(["a", "a", "b", "b"])
    impostors = np.sort(cross_identity_scores(vectors, codes))
    expected = np.sort(np.cos(np.radians([90, 100, 80, 90])))
    assert impostors == pytest.approx(expected, abs=1e-6)
    assert np.sort(same_identity_scores(vectors, codes)) == pytest.approx(
        [math.cos(math.radians(10))] * 2, abs=1e-6
    )
    counts, total = count_cross_identity_above(vectors, codes, [0.1, -0.1])
    assert total == 4 and counts == [1, 3]


def test_fmr_mapping_by_hand() -> None:
    mapping = FmrMapping.from_scores(np.array([0.15, 0.55, 0.55, 0.95]), step=0.1)
    assert mapping.comparisons == 4
    assert mapping.count_at(0.62) == 1  # grid point 0.6: only 0.95 is at or above
    assert mapping.count_at(0.58) == 3  # grid point 0.5: conservative, never below the truth
    assert mapping.count_at(-2.0) == 4
    estimate = mapping.estimate(0.99)
    assert estimate.fmr == 0.25 and estimate.fmr_upper > 0.25
    again = FmrMapping.from_dict(mapping.as_dict())
    assert again.count_at(0.62) == 1 and again.comparisons == 4
    with pytest.raises(ValueError):
        FmrMapping(np.array([0.0, 1.0]), np.array([1, 2]), 4)  # counts cannot grow


def test_calibration_threshold_and_refusal() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    names = tuple(f"p{i}" for i in range(200))
    corpus = EmbeddedCorpus(
        _corpus(names),
        vectors,
        np.zeros(200, np.int8),
    )
    cal = calibrate("m", [corpus], target_fmr=1e-2)
    scores = cross_identity_scores(vectors, identity_codes(list(names)))
    assert cal.at_threshold.trials == len(scores) == 200 * 199 // 2
    assert (scores >= cal.threshold).mean() <= 1e-2
    just_below = np.nextafter(np.float32(cal.threshold), np.float32(-1))
    assert (scores >= just_below).mean() > 1e-2  # the lowest threshold that meets the target
    assert cal.threshold_at(1e-2) >= cal.threshold - 1e-3
    with pytest.raises(InvalidRequestError):
        calibrate("m", [corpus], target_fmr=1e-6)  # 19,900 pairs cannot resolve 1e-6


def _corpus(names: tuple[str, ...]) -> Corpus:
    from pathlib import Path

    return Corpus("synthetic", tuple(Path(f"/x/{n}.jpg") for n in names), names)


def test_audit_and_prediction_by_hand() -> None:
    assert predicted_fpir(0.01, 2) == pytest.approx(1 - 0.99**2)
    assert predicted_fpir(0.0, 10**9) == 0.0
    # 28 of 535 at 25,000 comparisons each
    assert predicted_fpir(REFERENCE_2018_FMR, 25_000) == pytest.approx(28 / 535)
    result = run_audit(unit(0, 90), unit(10, 200), {"strict": 0.9, "lax": -0.5})
    strict, lax = result.rows
    assert strict["probes_with_false_match"]["errors"] == 1  # 10° is within cos10 of 0°
    assert strict["false_candidates"] == 1
    assert lax["probes_with_false_match"]["errors"] == 2
    assert lax["false_candidates"] == 3  # 200° vs 90° is cos110 = -0.34; vs 0° is -0.94


def test_identity_split_is_stable_and_balanced() -> None:
    people = [f"person_{i}" for i in range(2000)]
    sides = split_identities("lfw", people)
    assert sides == split_identities("lfw", list(people))
    share = sum(s is Half.CALIBRATION for s in sides) / len(sides)
    assert 0.45 < share < 0.55
    # a person keeps their side whatever else is loaded
    assert split_identities("lfw", ["person_7"]) == [sides[7]]


def test_the_lax_setting_is_read_on_the_model_scale() -> None:
    assert lax_similarity(DLIB_MODEL_ID) == LAX_SIMILARITY == 0.80
    assert lax_similarity(SFACE_MODEL_ID) == 0.363  # OpenCV's documented SFace threshold
    assert lax_similarity("another-model") == LAX_SIMILARITY
