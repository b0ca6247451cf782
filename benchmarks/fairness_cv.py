"""Repeated cross-validation of the fair scorer's fit options, inside the calibration half only.

The calibration half's people (LFW and UTKFace, the documented split ``faceatlas-split-v1``) are
divided again in two by a salted hash of each person's name, once per salt. For each salt the
scorer is fitted on one part and measured on the other, then the other way round; the counts of
all ``2 x salts`` fits are pooled. The held-out half is never read, so these figures may choose
options without touching the half that reports the shipped ones (`docs/fairness.md`).

Reported per variant, at its own thresholds (each fitted on the fit part's impostor pairs: the
default at FMR 1e-5, never below the raw cosine at that rate, and the fair score's 1e-4 and 1e-3
points):

* UTKFace false matches within each age band and race label of the measured part (pairs of two
  different people both in the group), with the worst-to-best ratio where no group is at zero;
* LFW false non-matches: pairs of photos of one person of the measured part below each threshold.

Variants: ``raw`` (cosine, no regions) and ``shipped`` (the shipped options), or options of
:class:`faceatlas.eval.fairness.FairnessFit` written ``regions=80`` or ``regions=80;fit_fmr=0.003``.

    python benchmarks/fairness_cv.py [--faces ../shared/faces] [--salts 5] \
        [--variants raw,shipped,regions=30,regions=80,regions=120,fit_fmr=0.003]

``--sample N`` (a quick run) keeps N people of each data set's calibration half; ``--per-fit``
adds a line for each fit: false matches per age band at its default, and the region holding most
of the measured part's children.
"""

from __future__ import annotations

import argparse
import hashlib
from collections import defaultdict
from pathlib import Path

import numpy as np

from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.eval.calibration import DEFAULT_MAX_PER_IDENTITY
from faceatlas.eval.corpus import Half, lfw_corpus, utkface_corpus
from faceatlas.eval.demographics import run_demographics
from faceatlas.eval.embedded import (
    EmbeddedCorpus,
    cross_identity_scores,
    embed_corpus,
    identity_codes,
    pooled,
    same_identity_scores,
)
from faceatlas.eval.fairness import FairnessFit, fit_fair_scorer
from faceatlas.eval.metrics import threshold_at_far
from faceatlas.search.fairness import FairScorer, nearest_region
from lfw_model import embedding_progress

ROOT = Path(__file__).resolve().parent.parent
POINTS = {"default": 1e-5, "1e-4": 1e-4, "1e-3": 1e-3}
"""The thresholds each variant is measured at, by the FMR they give on the fit part."""
YOUNGEST = "0-17"

Counts = defaultdict[tuple[str, str, str], list[int]]


def part_of(corpus: EmbeddedCorpus, side: int, salt: str) -> EmbeddedCorpus:
    """The people of ``corpus`` whose salted hash falls on ``side`` (0 or 1)."""
    keep = [
        i
        for i, person in enumerate(corpus.corpus.identities)
        if hashlib.sha256(f"{salt}|{person}".encode()).digest()[0] % 2 == side
    ]
    return corpus.subset(keep)


def fit_scores(parts: list[EmbeddedCorpus], scorer: FairScorer | None) -> np.ndarray:
    """Scores of every pair of different people of the fit parts, with as many photos a person
    as the fit itself uses."""
    fit = pooled([p.usable().capped(DEFAULT_MAX_PER_IDENTITY) for p in parts]).scored_by(scorer)
    codes = identity_codes(list(fit.corpus.identities))
    return cross_identity_scores(fit.vectors, codes, fit.offsets).astype(np.float64)


def options_of(variant: str) -> FairnessFit | None:
    if variant == "raw":
        return None
    if variant == "shipped":
        return FairnessFit()
    whole = {"regions", "seed", "max_per_identity"}
    fields = dict(item.split("=", 1) for item in variant.split(";"))
    return FairnessFit(**{k: int(v) if k in whole else float(v) for k, v in fields.items()})


def fit_line(
    salt: str, side: int, scorer: FairScorer | None, age: list[tuple[str, int]], utk: EmbeddedCorpus
) -> str:
    """One fit: false matches per age band at its default, and the region that holds most of the
    measured part's children (how many, its fit pairs, its offset)."""
    text = f"    fit {salt}/{side}: at default " + " ".join(f"{g} {k}" for g, k in age)
    if scorer is not None:
        young = [i for i, a in enumerate(utk.corpus.groups["age"]) if a == YOUNGEST]
        regions = nearest_region(utk.vectors[young], scorer.centroids)
        top = int(np.bincount(regions).argmax())
        pairs = scorer.provenance["region_pairs"][top]
        text += (
            f"; {int((regions == top).sum())} of {len(young)} measured {YOUNGEST} faces in one "
            f"region: {pairs} fit pairs, offset {scorer.offsets[top]:.3f}"
        )
    return text


def measure(
    variant: str,
    model_id: str,
    lfw: EmbeddedCorpus,
    utk: EmbeddedCorpus,
    salts: list[str],
    per_fit: bool = False,
) -> Counts:
    counts: Counts = defaultdict(lambda: [0, 0])
    options = options_of(variant)
    for salt in salts:
        for side in (0, 1):
            fit = [part_of(lfw, side, salt), part_of(utk, side, salt)]
            lfw_m, utk_m = part_of(lfw, 1 - side, salt), part_of(utk, 1 - side, salt)
            scorer = None if options is None else fit_fair_scorer(model_id, fit, options)
            scores = fit_scores(fit, scorer)
            thresholds = {name: threshold_at_far(scores, fmr) for name, fmr in POINTS.items()}
            if scorer is not None:
                thresholds["default"] = scorer.threshold
            utk_m, lfw_m = utk_m.scored_by(scorer), lfw_m.scored_by(scorer)
            for attr in ("age", "race"):
                groups = run_demographics(utk_m, attr, thresholds).groups
                for group in groups:
                    for name in POINTS:
                        counts[(attr, group.group, name)][0] += group.fmr[name].errors
                        counts[(attr, group.group, name)][1] += group.fmr[name].trials
                if per_fit and attr == "age":
                    age = [(g.group, g.fmr["default"].errors) for g in groups]
                    print(fit_line(salt, side, scorer, age, utk_m))
            codes = identity_codes(list(lfw_m.corpus.identities))
            genuine = same_identity_scores(lfw_m.vectors, codes, lfw_m.offsets)
            for name, value in thresholds.items():
                counts[("lfw", "FNMR", name)][0] += int((genuine < value).sum())
                counts[("lfw", "FNMR", name)][1] += len(genuine)
    return counts


def report(counts: Counts) -> None:
    for attr in ("age", "race"):
        for name in POINTS:
            rows = [
                (g, k, n) for (a, g, p), (k, n) in sorted(counts.items()) if (a, p) == (attr, name)
            ]
            rates = [k / n for _, k, n in rows]
            ratio = f"{max(rates) / min(rates):.1f}" if min(rates) > 0 else "n/a (a group at 0)"
            cells = "  ".join(f"{g} {k}/{n:,}" for g, k, n in rows)
            print(f"  {attr} at {name:7} {cells}  worst/best {ratio}")
    k_n = [counts[("lfw", "FNMR", name)] for name in POINTS]
    print("  LFW FNMR " + "  ".join(
        f"at {name} {k / n:.4f} ({k:,}/{n:,})" for name, (k, n) in zip(POINTS, k_n, strict=True)
    ))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--salts", type=int, default=5)
    parser.add_argument("--variants", default="raw,shipped")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--sample", type=int, default=0, help="N people a data set (0: all)")
    parser.add_argument("--per-fit", action="store_true", help="a line for each fit")
    args = parser.parse_args()
    spec = EngineSpec.from_settings(Settings())
    model_id = create_engine(spec).model_id
    halves = []
    for corpus in (lfw_corpus(args.faces / "lfw"), utkface_corpus(args.faces / "utkface")):
        half = corpus.half(Half.CALIBRATION)
        if args.sample:
            people = sorted(set(half.identities))[: args.sample]
            half = half.subset([i for i, p in enumerate(half.identities) if p in set(people)])
        embedded = embed_corpus(half, spec, workers=args.workers, cache_dir=args.cache_dir,
                                progress=embedding_progress)  # fmt: skip
        halves.append(embedded.usable())
    salts = [f"fairness-cv-{i}" for i in range(args.salts)]
    print(f"{model_id}: calibration half only, {len(salts)} salt(s) x 2 directions, pooled")
    for variant in args.variants.split(","):
        print(f"== {variant}")
        report(measure(variant, model_id, halves[0], halves[1], salts, args.per_fit))


if __name__ == "__main__":
    main()
