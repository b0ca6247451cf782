"""One run of the evaluation lab: load the data sets, embed, calibrate, run the suites.

The documented split (see :func:`faceatlas.eval.corpus.split_identities`):
the threshold is calibrated on the *calibration* half of the people of LFW
and UTKFace; demographics and the false-match audit are measured on the
*held-out* half, people the calibration never saw. Verification uses the
standard View 2 folds, and identification every LFW person, as their
protocols require; their figures at the calibrated threshold therefore
include calibration people, which the report says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from faceatlas.engine import EngineSpec, create_engine
from faceatlas.errors import ConfigError
from faceatlas.eval.audit import REFERENCE_2018_FMR, AuditResult, lax_similarity, run_audit
from faceatlas.eval.calibration import (
    DEFAULT_TARGET_FMR,
    Calibration,
    calibrate,
    scorer_calibration,
)
from faceatlas.eval.corpus import (
    Corpus,
    Half,
    folder_corpus,
    lfw_corpus,
    utkface_corpus,
)
from faceatlas.eval.datasets import read_lfw_pairs
from faceatlas.eval.demographics import DemographicsResult, run_demographics
from faceatlas.eval.embedded import EmbeddedCorpus, embed_corpus, pooled
from faceatlas.eval.group_search import GroupSearchResult, run_group_search
from faceatlas.eval.identify import IdentifyResult, gallery_split, run_identify
from faceatlas.eval.lfw import select_pairs
from faceatlas.eval.verify import VerifyResult, run_verify
from faceatlas.search.fairness import FairScorer
from faceatlas.types import record

__all__ = ["LabOptions", "LabResult", "Scoring", "Suite", "run_lab"]

SPLIT_NOTE = (
    "people split 50/50 by a hash of dataset and name (faceatlas-split-v1); calibration on "
    "the 'calibration' half of LFW and UTKFace, demographics and audit on the 'held-out' half"
)


class Scoring(StrEnum):
    """How two faces are compared: the shipped fair score, or raw cosine similarity."""

    FAIR = "fair"
    RAW = "raw"


class Suite(StrEnum):
    VERIFY = "verify"
    IDENTIFY = "identify"
    DEMOGRAPHICS = "demographics"
    AUDIT = "audit"


@record
class LabOptions:
    lfw_dir: Path
    utkface_dir: Path | None = None
    distractor_dirs: tuple[Path, ...] = ()
    suites: tuple[Suite, ...] = tuple(Suite)
    target_fmr: float = DEFAULT_TARGET_FMR
    lax_similarity: float | None = None
    """The lax setting audited; ``None``: the model's (:func:`faceatlas.eval.audit.lax_similarity`)."""
    max_people: int | None = None
    """Small real subset: the first N LFW people by name, N UTKFace photos, N View 2 pairs."""
    workers: int = 1
    cache_dir: Path | None = None
    calibration: Calibration | None = None
    """Use this (e.g. an atlas's stored calibration) instead of calibrating on the split."""
    scoring: Scoring | None = None
    """``fair``: the fair scorer that ships for the model, and its threshold, as a fresh atlas
    uses them; ``raw``: cosine similarity with a threshold calibrated in this run; ``None``:
    as a fresh atlas of this model does (fair where a scorer ships for it, else raw)."""
    recalibrate: bool = False
    """With fair scoring: calibrate the fair score on the calibration half in this run
    (``faceatlas calibrate``) instead of using the shipped threshold. A target FMR other
    than the shipped scorer's is always calibrated in the run."""


@record
class LabResult:
    model_id: str
    options: LabOptions
    datasets: list[dict[str, Any]]
    calibration: Calibration
    calibration_source: str
    verify: VerifyResult | None = None
    identify: IdentifyResult | None = None
    demographics: list[DemographicsResult] = field(default_factory=list)
    audits: list[AuditResult] = field(default_factory=list)
    group_searches: list[GroupSearchResult] = field(default_factory=list)
    fair_scoring: bool = False
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    def as_dict(self) -> dict[str, Any]:
        o = self.options
        return {
            "generated_at": self.generated_at,
            "model_id": self.model_id,
            "settings": {
                "target_fmr": o.target_fmr,
                "lax_similarity": o.lax_similarity,
                "max_people": o.max_people,
                "suites": [s.value for s in o.suites],
                "scoring": "fair" if self.fair_scoring else "raw",
                "split": SPLIT_NOTE,
            },
            "datasets": self.datasets,
            "calibration": {"source": self.calibration_source, **self.calibration.as_dict()},
            "verify": None if self.verify is None else self.verify.as_dict(),
            "identify": None if self.identify is None else self.identify.as_dict(),
            "demographics": [d.as_dict() for d in self.demographics],
            "group_search": [g.as_dict() for g in self.group_searches],
            "audit": [a.as_dict() for a in self.audits],
        }


Progress = Callable[[str, int, int], None]
GROWTH_SIZES = (10, 30, 100, 300, 1000, 3000)
SEARCH_SETTINGS = ("calibrated", "fmr-1e-4", "fmr-1e-3")
"""The thresholds the searches by group are counted at: the default and two looser ones."""


def _embed(
    corpus: Corpus, spec: EngineSpec, options: LabOptions, progress: Progress | None
) -> EmbeddedCorpus:
    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(corpus.name, done, total)

    return embed_corpus(
        corpus, spec, workers=options.workers, cache_dir=options.cache_dir, progress=report
    )


def _steps(total: int) -> list[int]:
    return [round(total * f) for f in (0.0, 0.125, 0.25, 0.5, 1.0)]


def _scorer(model_id: str, scoring: Scoring | None) -> FairScorer | None:
    if scoring is Scoring.RAW:
        return None
    scorer = FairScorer.shipped(model_id)
    if scorer is None and scoring is Scoring.FAIR:
        raise ConfigError(
            f"no fair scorer ships for {model_id}; fit one (faceatlas eval fit-fairness) "
            "or run with --scoring raw"
        )
    return scorer


def _audit(
    people: EmbeddedCorpus,
    thresholds: dict[str, float],
    cal: Calibration,
    description: str,
    scorer: FairScorer | None,
) -> AuditResult:
    usable = people.usable()
    split = gallery_split(usable)
    return run_audit(
        usable.vectors[split.gallery],
        usable.vectors[split.nonmated],
        thresholds,
        calibration=cal,
        growth_sizes=GROWTH_SIZES,
        description=description,
        scorer=scorer,
    )


def run_lab(options: LabOptions, spec: EngineSpec, progress: Progress | None = None) -> LabResult:
    """Run the selected suites; every suite shares the embeddings and the calibration."""
    model_id = create_engine(spec).model_id
    scorer = _scorer(model_id, options.scoring)
    lax = lax_similarity(model_id) if options.lax_similarity is None else options.lax_similarity
    options = replace(options, lax_similarity=lax)
    lfw_all = lfw_corpus(options.lfw_dir)
    if options.max_people is not None:
        lfw_all = lfw_all.first_people(options.max_people)
    lfw = _embed(lfw_all, spec, options, progress).scored_by(scorer)
    datasets: list[dict[str, Any]] = [lfw.summary()]
    utk: EmbeddedCorpus | None = None
    if options.utkface_dir is not None:
        utk_all = utkface_corpus(options.utkface_dir)
        if options.max_people is not None:
            utk_all = utk_all.subset(range(min(options.max_people, len(utk_all))))
        utk = _embed(utk_all, spec, options, progress).scored_by(scorer)
        datasets.append(utk.summary())
    extra = [
        _embed(folder_corpus(d), spec, options, progress).scored_by(scorer)
        for d in options.distractor_dirs
    ]
    datasets.extend(e.summary() for e in extra)
    labelled = [c for c in (lfw, utk) if c is not None]

    if options.calibration is not None:
        cal, cal_source = options.calibration, "stored calibration (atlas)"
    elif scorer is not None and not options.recalibrate and options.target_fmr == scorer.target_fmr:
        cal = scorer_calibration(scorer)
        cal_source = "fair scorer shipped with the package (fitted on the calibration half)"
    else:
        cal = calibrate(
            model_id,
            [c.half(Half.CALIBRATION) for c in labelled],
            target_fmr=options.target_fmr,
            split=SPLIT_NOTE,
        )
        cal_source = "calibrated in this run on the calibration half"
    thresholds = {
        "calibrated": cal.threshold,
        "lax": lax,
        "2018-test-rate": cal.threshold_at(REFERENCE_2018_FMR),
        "fmr-1e-4": cal.threshold_at(1e-4),
        "fmr-1e-3": cal.threshold_at(1e-3),
    }
    result = LabResult(
        model_id, options, datasets, cal, cal_source, fair_scoring=scorer is not None
    )

    if Suite.VERIFY in options.suites:
        pairs = select_pairs(
            read_lfw_pairs(options.lfw_dir / "pairs.txt", options.lfw_dir / "images"),
            options.max_people,
        )
        photos = sorted({p.a for p in pairs} | {p.b for p in pairs})
        view2 = Corpus("lfw-view2", tuple(photos), tuple(p.parent.name for p in photos))
        pair_set = _embed(view2, spec, options, progress).scored_by(scorer)
        verify = run_verify(
            model_id,
            pairs,
            [str(p.resolve()) for p in pair_set.corpus.paths],
            pair_set.vectors,
            fallback=pair_set.fallback_count,
            unreadable=pair_set.failed_count,
            offsets=pair_set.offsets,
        )
        result = replace(result, verify=verify)
    if Suite.IDENTIFY in options.suites:
        parts = [*([utk] if utk is not None else []), *extra]
        distractors = pooled(parts) if parts else None
        ident = run_identify(
            lfw,
            distractors=distractors,
            distractor_steps=_steps(0 if distractors is None else len(distractors.corpus)),
            threshold=cal.threshold,
        )
        result = replace(result, identify=ident)
    if Suite.DEMOGRAPHICS in options.suites:
        demo = [
            run_demographics(c.half(Half.HELD_OUT), attribute, thresholds)
            for c in labelled
            for attribute in c.corpus.groups
        ]
        searches = [
            run_group_search(
                c.half(Half.HELD_OUT),
                attribute,
                {n: thresholds[n] for n in SEARCH_SETTINGS},
                others=[o.half(Half.HELD_OUT) for o in labelled if o is not c],
                scorer=scorer,
            )
            for c in labelled
            for attribute in c.corpus.groups
        ]
        result = replace(result, demographics=demo, group_searches=searches)
    if Suite.AUDIT in options.suites:
        audits = [
            _audit(
                lfw.half(Half.HELD_OUT),
                thresholds,
                cal,
                "held-out half (people the calibration never saw): LFW single-photo people "
                "searched against one photo of every LFW person with two or more photos",
                scorer,
            ),
            _audit(
                lfw,
                thresholds,
                cal,
                "all LFW: single-photo people against one photo of every person with two or "
                "more photos (half of these people were used for calibration)",
                scorer,
            ),
        ]
        result = replace(result, audits=audits)
    return result
