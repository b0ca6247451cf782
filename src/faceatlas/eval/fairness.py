"""Fitting the fair scorer (:mod:`faceatlas.search.fairness`) on the fit half of the data.

Every parameter is learned from the *calibration* ("fit") half of the documented split
(:func:`faceatlas.eval.corpus.split_identities`): people, never photos, so no reported
figure on the held-out half is measured on a face that set a parameter.

1. Regions: spherical k-means (``regions`` centroids, fixed seed) trained on the same
   number of people from each fit data set (one photo each, the smallest set's count), so
   that UTKFace's children and wider ethnic variety shape the regions as much as LFW's
   adults do; then every fit face is assigned to its nearest centroid.
2. Offsets: in each region, the similarity that a share ``r`` of its pairs of different
   people reach, minus the same figure over the pairs inside all regions pooled (the *hard*
   impostors: pairs close in embedding space, where false matches concentrate).
   ``r = max(fit_fmr, 10 / pairs)`` so that at least ten pairs lie above it; a region
   needing ``r > max_region_fmr`` (at the default, fewer than 20 pairs) gets no offset. A small
   region is measured further into its bulk rather than left untightened (with the fit halved
   again, ``benchmarks/fairness_cv.py``, a cap of 10% left a children's region without an
   offset in one fit of ten; ``docs/fairness.md``).
   Only the excess counts (``offset >= 0``).
3. Threshold: the fair score at ``target_fmr`` over all fit impostor pairs, never below
   the raw similarity at the same target (a global threshold that regions may only
   tighten).
4. Error mappings: the share of fit impostor pairs at or above each fair score (FMR per
   comparison), and, for one photo of each fit person searched against every fit photo
   of everybody else, the share of searches whose top fair score reaches each value
   (FPIR at that gallery size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from faceatlas.errors import InvalidRequestError
from faceatlas.eval.calibration import (
    DEFAULT_MAX_PER_IDENTITY,
    DEFAULT_TARGET_FMR,
    MIN_EXPECTED_FALSE_MATCHES,
    fit_stamp,
    float32_ceil,
    require_resolvable,
)
from faceatlas.eval.embedded import (
    EmbeddedCorpus,
    cross_identity_scores,
    identity_codes,
)
from faceatlas.eval.metrics import threshold_at_far
from faceatlas.search import FmrMapping
from faceatlas.search.fairness import FairScorer, FpirMapping, nearest_region
from faceatlas.types import record

__all__ = ["FairnessFit", "fit_fair_scorer"]

DEFAULT_REGIONS = 50
DEFAULT_FIT_FMR = 1e-2
DEFAULT_MAX_REGION_FMR = 0.5
DEFAULT_SEED = 0
BLOCK = 1024


@record
class FairnessFit:
    """Options of one fit; the defaults are the shipped ones."""

    regions: int = DEFAULT_REGIONS
    fit_fmr: float = DEFAULT_FIT_FMR
    max_region_fmr: float = DEFAULT_MAX_REGION_FMR
    target_fmr: float = DEFAULT_TARGET_FMR
    max_per_identity: int = DEFAULT_MAX_PER_IDENTITY
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.regions < 1:
            raise InvalidRequestError("regions must be at least 1")
        rates = (self.fit_fmr, self.target_fmr, self.max_region_fmr)
        if not all(0.0 < r < 1.0 for r in rates):
            raise InvalidRequestError("false-match rates must be between 0 and 1")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pooled(
    corpora: Sequence[EmbeddedCorpus], cap: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], list[dict[str, Any]]]:
    parts = [c.usable().capped(cap) for c in corpora]
    vectors = np.concatenate([p.vectors for p in parts]).astype(np.float32)
    names = [f"{p.corpus.name}|{i}" for p in parts for i in p.corpus.identities]
    return vectors, identity_codes(names), [p.summary() for p in parts]


def balanced_training_set(corpora: Sequence[EmbeddedCorpus], seed: int) -> npt.NDArray[np.float32]:
    """One photo of as many people from each corpus as the smallest corpus has people."""
    firsts = [
        c.usable().vectors[[idx[0] for idx in c.usable().corpus.by_identity().values()]]
        for c in corpora
    ]
    size = min(len(f) for f in firsts)
    rng = np.random.default_rng(seed)
    picks = [f[np.sort(rng.permutation(len(f))[:size])] for f in firsts]
    return np.concatenate(picks).astype(np.float32)


def region_offsets(
    vectors: npt.NDArray[np.float32],
    codes: npt.NDArray[np.int64],
    centroids: npt.NDArray[np.float32],
    fit_fmr: float,
    max_region_fmr: float,
    min_pairs_above: int = MIN_EXPECTED_FALSE_MATCHES,
) -> tuple[npt.NDArray[np.float32], list[int]]:
    """Tightening offset of each region and its number of different-person pairs.

    A region's figure is read at the share ``max(fit_fmr, min_pairs_above / pairs)`` so that
    it rests on at least ``min_pairs_above`` pairs; the pooled figure at the same share."""
    region = nearest_region(vectors, centroids)
    per_region: list[npt.NDArray[np.float32]] = []
    for c in range(len(centroids)):
        idx = np.nonzero(region == c)[0]
        per_region.append(cross_identity_scores(vectors[idx], codes[idx]))
    hard = np.concatenate(per_region) if per_region else np.zeros(0, np.float32)
    if len(hard) * fit_fmr < min_pairs_above:
        raise InvalidRequestError(
            f"{len(hard):,} pairs inside regions cannot resolve FMR {fit_fmr:g}; "
            "use fewer regions or more people"
        )
    pooled = hard.astype(np.float64)
    offsets = np.zeros(len(centroids), np.float32)
    for c, scores in enumerate(per_region):
        if len(scores) == 0:
            continue
        share = max(fit_fmr, min_pairs_above / len(scores))
        if share > max_region_fmr:
            continue
        local = threshold_at_far(scores.astype(np.float64), share)
        offsets[c] = max(0.0, local - threshold_at_far(pooled, share))
    return offsets, [len(s) for s in per_region]


def nonmated_top_scores(
    vectors: npt.NDArray[np.float32],
    codes: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], int]:
    """One photo of each person searched against all photos of everybody else (each photo
    with its fair-score ``offsets``): the top fair score of each search, and the mean
    gallery size."""
    _, first = np.unique(codes, return_index=True)
    tops = np.empty(len(first), np.float32)
    sizes = np.empty(len(first), np.int64)
    for start in range(0, len(first), BLOCK):
        probes = first[start : start + BLOCK]
        s = FairScorer.combine(vectors[probes] @ vectors.T, offsets[probes], offsets)
        same = codes[probes, None] == codes[None, :]
        s[same] = -np.inf
        tops[start : start + len(probes)] = s.max(axis=1)
        sizes[start : start + len(probes)] = (~same).sum(axis=1)
    return tops, round(float(sizes.mean()))


def fit_fair_scorer(
    model_id: str,
    corpora: Sequence[EmbeddedCorpus],
    options: FairnessFit | None = None,
    *,
    split: str = "",
) -> FairScorer:
    """Fit regions, offsets, threshold and error mappings on ``corpora`` (the fit half)."""
    o = options or FairnessFit()
    vectors, codes, summaries = _pooled(corpora, o.max_per_identity)
    training = balanced_training_set(corpora, o.seed)
    if len(training) < o.regions * 4:
        raise InvalidRequestError(f"{len(training)} people are too few for {o.regions} regions")
    kmeans = faiss.Kmeans(
        vectors.shape[1], o.regions, niter=30, nredo=5, spherical=True, seed=o.seed, verbose=False
    )
    kmeans.train(training)
    centroids = np.asarray(kmeans.centroids, np.float32)
    offsets, region_pairs = region_offsets(vectors, codes, centroids, o.fit_fmr, o.max_region_fmr)
    raw = cross_identity_scores(vectors, codes)
    require_resolvable(len(raw), o.target_fmr)
    face_offsets = offsets[nearest_region(vectors, centroids)]
    fair = cross_identity_scores(vectors, codes, face_offsets)
    raw_threshold = float32_ceil(threshold_at_far(raw.astype(np.float64), o.target_fmr))
    fair_threshold = float32_ceil(threshold_at_far(fair.astype(np.float64), o.target_fmr))
    threshold = max(raw_threshold, fair_threshold)
    tops, gallery = nonmated_top_scores(vectors, codes, face_offsets)
    provenance: dict[str, Any] = {
        "method": "spherical k-means regions trained on equal numbers of people per data set; "
        "per-region tightening offsets at the fit FMR (or the lowest rate with ten pairs "
        "above it) relative to all pairs inside regions; score = cosine - max(offset_a, offset_b); "
        "threshold = fair score at the target FMR over all fit impostor pairs, never below "
        "the raw similarity at the target",
        "options": o.as_dict(),
        "corpora": summaries,
        "split": split,
        "impostor_comparisons": len(fair),
        "raw_threshold_at_target": raw_threshold,
        "fair_threshold_at_target": fair_threshold,
        "false_matches_at_threshold": int((fair >= threshold).sum()),
        "region_pairs": region_pairs,
        "regions_with_offset": int((offsets > 0).sum()),
        "nonmated_searches": len(tops),
        **fit_stamp(),
    }
    return FairScorer(
        model_id=model_id,
        centroids=centroids,
        offsets=offsets,
        threshold=threshold,
        target_fmr=o.target_fmr,
        fmr=FmrMapping.from_scores(fair),
        fpir=FpirMapping.from_top_scores(tops, gallery),
        provenance=provenance,
    )
