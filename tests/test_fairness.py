"""Fair scoring: the math on hand-computed cases, the fit on real photos, search end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceatlas import Atlas
from faceatlas.choices import EngineName
from faceatlas.engine.sface_engine import SFACE_MODEL_ID
from faceatlas.eval.corpus import Corpus, Half, lfw_corpus, utkface_corpus, utkface_same_person
from faceatlas.eval.embedded import (
    EmbeddedCorpus,
    count_cross_identity_above,
    embed_corpus,
    identity_codes,
)
from faceatlas.eval.fairness import FairnessFit, fit_fair_scorer, region_offsets
from faceatlas.eval.group_search import run_group_search
from faceatlas.search import FmrMapping
from faceatlas.search.fairness import FairScorer, FpirMapping, fpir_at

from .conftest import atlas_settings


def unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, np.float32)
    return v / np.linalg.norm(v)


def toy_scorer(offsets: tuple[float, float], threshold: float = 0.5) -> FairScorer:
    """Two regions: around the x axis and around the y axis."""
    return FairScorer(
        model_id="toy",
        centroids=np.stack([unit(1, 0, 0), unit(0, 1, 0)]),
        offsets=np.asarray(offsets, np.float32),
        threshold=threshold,
        target_fmr=1e-3,
        fmr=FmrMapping.from_scores(np.asarray([0.1, 0.2, 0.6], np.float32)),
        fpir=FpirMapping.from_top_scores(np.asarray([0.2, 0.55], np.float32), gallery_size=100),
        provenance={},
    )


def test_fair_score_subtracts_the_stricter_region_offset() -> None:
    scorer = toy_scorer((0.0, 0.2))
    a, b = unit(1, 0.1, 0), unit(0.1, 1, 0)  # region 0 (offset 0), region 1 (offset 0.2)
    assert scorer.face_offsets(np.stack([a, b])).tolist() == pytest.approx([0.0, 0.2])
    cos = float(a @ b)  # 0.198 by hand: (0.1 + 0.1) / 1.01
    assert cos == pytest.approx(0.2 / 1.01, abs=1e-6)
    assert scorer.score_pairs(a[None], b[None])[0] == pytest.approx(cos - 0.2, abs=1e-6)
    assert scorer.score_pairs(a[None], a[None])[0] == pytest.approx(1.0, abs=1e-6)
    assert scorer.score_pairs(b[None], b[None])[0] == pytest.approx(0.8, abs=1e-6)
    block = scorer.combine(np.asarray([[0.9, 0.7]]), [0.1], [0.0, 0.3])
    assert block[0].tolist() == pytest.approx([0.8, 0.4])


def test_offsets_may_only_tighten() -> None:
    with pytest.raises(ValueError, match="only tighten"):
        toy_scorer((0.0, -0.1))


def test_fpir_scales_with_gallery_size() -> None:
    assert fpir_at(0.0, 10) == 0.0 and fpir_at(1e-3, 0) == 0.0
    assert fpir_at(1e-3, 1000) == pytest.approx(1 - 0.999**1000)
    # one of two searches topped 0.55 against 100 faces: FPIR 0.5 at N=100;
    # effective p = 1 - 0.5^(1/100); at N=200 the FPIR is 1 - 0.5^2 = 0.75
    mapping = toy_scorer((0.0, 0.0)).fpir
    at_ref = mapping.estimate(0.5, 100)
    assert at_ref.fpir == pytest.approx(0.5, abs=1e-9)
    assert at_ref.fpir_lower < 0.5 < at_ref.fpir_upper
    assert mapping.estimate(0.5, 200).fpir == pytest.approx(0.75, abs=1e-9)
    assert mapping.estimate(0.6, 100).fpir == 0.0  # no search topped 0.6
    assert mapping.estimate(0.6, 100).fpir_upper > 0.0  # but the interval says how little we know
    # the FPIR threshold tightens as the gallery grows
    assert mapping.threshold_for(0.6, 100) <= mapping.threshold_for(0.6, 10_000)


def test_region_offsets_by_hand() -> None:
    # region 0: three people along x, close together; region 1: three people along y, spread
    x = np.stack(
        [
            unit(1, 0.05, 0),
            unit(1, -0.05, 0),
            unit(1, 0, 0.05),
            unit(0.3, 1, 0),
            unit(-0.3, 1, 0),
            unit(0, 1, 0.6),
        ]
    ).astype(np.float32)
    codes = np.arange(6)
    centroids = np.stack([unit(1, 0, 0), unit(0, 1, 0)])

    def pair_scores(rows: range) -> list[float]:
        return sorted((float(x[i] @ x[j]) for i in rows for j in rows if i < j), reverse=True)

    r0, r1 = pair_scores(range(3)), pair_scores(range(3, 6))
    pooled = sorted(r0 + r1, reverse=True)
    assert min(r0) > max(r1)  # the close region holds the pooled top three
    # share 0.5: a region's cut passes its top pair (1 of 3), the pool's its top three (3 of 6)
    offsets, pairs = region_offsets(
        x, codes, centroids, fit_fmr=0.5, max_region_fmr=0.9, min_pairs_above=1
    )
    assert pairs == [3, 3]
    assert offsets[0] == pytest.approx(r0[1] - pooled[3], abs=1e-6)
    assert offsets[1] == 0.0  # the spread region would be loosened: it keeps the global cut
    # a region that needs a share above max_region_fmr to rest on enough pairs gets nothing
    offsets, _ = region_offsets(
        x, codes, centroids, fit_fmr=0.5, max_region_fmr=0.9, min_pairs_above=3
    )
    assert offsets.tolist() == [0.0, 0.0]


def test_searches_by_group_by_hand() -> None:
    """Four photos: ann twice (young), bob (young), cy (old). Scores by hand (unit vectors):
    ann1-ann2 0.8, ann1-bob 0.6, bob-cy 0.0, ann-cy 0.0 on the raw scale."""
    ann1, ann2, bob, cy = unit(1, 0, 0), unit(0.8, 0.6, 0), unit(0.6, 0.8, 0), unit(0, 0, 1)
    corpus = Corpus(
        "toy",
        tuple(Path(f"{n}.jpg") for n in ("ann1", "ann2", "bob", "cy")),
        ("ann", "ann", "bob", "cy"),
        {"age": ("young", "young", "young", "old")},
    )
    data = EmbeddedCorpus(corpus, np.stack([ann1, ann2, bob, cy]), np.zeros(4, np.int8))
    result = run_group_search(data, "age", {"strict": 0.9, "default": 0.7, "loose": 0.5})
    assert result.gallery_size == 3  # four faces less the probe photo itself
    young = next(g for g in result.groups if g.group == "young")
    # ann1 probes: ann2 0.8 on top (her own), bob 0.6 a stranger below it; bob probes: ann2
    # 0.96, a stranger on top
    assert young.searches == 2
    assert [young.stranger_lead[n].errors for n in ("strict", "default", "loose")] == [1, 1, 2]
    assert [young.wrong_on_top[n].errors for n in ("strict", "default", "loose")] == [1, 1, 1]
    assert [g.group for g in result.groups] == ["young"]  # one old searcher is too few
    tightened = np.asarray([0, 0, 0.3, 0], np.float32)
    fair = run_group_search(
        EmbeddedCorpus(corpus, data.vectors, data.status, tightened), "age", {"default": 0.7}
    )
    # bob's region tightens by 0.3: bob-ann2 0.96 - 0.3 = 0.66, ann1-bob 0.3
    assert next(g for g in fair.groups if g.group == "young").stranger_lead["default"].errors == 0


def test_utkface_people_under_two_file_names_share_one_identity(faces_dir: Path) -> None:
    same = utkface_same_person()
    a, b = "37_0_3_20170119152336983.jpg.chip.jpg", "47_0_3_20170119152344615.jpg.chip.jpg"
    assert same[a] == same[b] == min(a, b)
    corpus = utkface_corpus(faces_dir / "utkface")
    ident = dict(zip((p.name for p in corpus.paths), corpus.identities, strict=True))
    assert ident[a] == ident[b]
    assert len(set(corpus.identities)) < len(corpus)
    assert set(corpus.groups["age"]) <= {"0-17", "18-39", "40-59", "60+", None}


def test_shipped_scorer_is_fitted_for_the_default_engine() -> None:
    scorer = FairScorer.shipped(SFACE_MODEL_ID)
    assert scorer is not None and scorer.model_id == SFACE_MODEL_ID
    assert scorer.target_fmr == 1e-5
    assert "calibration" in scorer.provenance["split"]
    assert (scorer.offsets >= 0).all() and (scorer.offsets > 0).any()
    raw_floor = scorer.provenance["raw_threshold_at_target"]
    assert scorer.threshold >= raw_floor  # regions only tighten the global threshold
    assert FairScorer.shipped("no-such-model") is None


@pytest.mark.slow
def test_fit_on_a_small_real_subset_round_trips(faces_dir: Path, tmp_path: Path) -> None:
    from faceatlas.engine import EngineSpec

    spec = EngineSpec.for_engine(EngineName.SFACE)
    lfw = lfw_corpus(faces_dir / "lfw").first_people(120).half(Half.CALIBRATION)
    utk = utkface_corpus(faces_dir / "utkface")
    utk = utk.subset(range(200)).half(Half.CALIBRATION)
    parts = [embed_corpus(c, spec, cache_dir=tmp_path) for c in (lfw, utk)]
    scorer = fit_fair_scorer(
        SFACE_MODEL_ID, parts, FairnessFit(regions=4, target_fmr=1e-3, fit_fmr=0.05)
    )
    again = FairScorer.from_bytes(scorer.to_bytes())
    assert again.threshold == scorer.threshold
    assert np.array_equal(again.offsets, scorer.offsets)
    assert again.fmr.comparisons == scorer.fmr.comparisons > 1000
    # the stored mapping counts the fit pairs: at the threshold, at most the target share
    vectors = np.concatenate([p.usable().capped(10).vectors for p in parts])
    names = [f"{p.corpus.name}|{i}" for p in parts for i in p.usable().capped(10).corpus.identities]
    counts, total = count_cross_identity_above(
        vectors, identity_codes(names), [scorer.threshold], scorer.face_offsets(vectors)
    )
    assert total == scorer.fmr.comparisons
    assert counts[0] <= scorer.fmr.count_at(scorer.threshold)
    assert counts[0] <= 1e-3 * total


def test_search_states_fair_score_and_false_candidate_rate(tmp_path: Path, faces_dir: Path) -> None:
    root = tmp_path / "atlas"
    known = faces_dir / "face_recognition" / "examples" / "knn_examples" / "train"
    with Atlas.open(settings=atlas_settings(root, engine=EngineName.SFACE)) as atlas:
        atlas.ingest(known)
        probe = (faces_dir / "face_recognition" / "examples" / "obama.jpg").read_bytes()
        result = atlas.search(probe, top_k=5)
        scorer = atlas.searcher.fair_scorer()
        assert scorer is not None and result.fair_scoring
        assert result.threshold_source == "fair default"
        assert result.threshold == scorer.threshold
        assert result.gallery_size == len(atlas.index) > 0
        assert result.threshold_fpir is not None
        assert result.threshold_fpir.gallery_size == result.gallery_size
        assert result.hits, "Obama's own photos are in the gallery"
        top = result.hits[0]
        assert top.score is not None and top.score >= result.threshold
        assert top.score <= top.similarity + 1e-6  # offsets only lower a score
        assert top.estimated_fpir is not None
        assert top.estimated_fpir.fpir <= result.threshold_fpir.fpir  # stronger than the bar
        body = result.as_dict()
        assert body["fair_scoring"] is True and body["hits"][0]["estimated_fpir"]["fpir"] >= 0
        scores = [h.score for h in result.hits]
        assert scores == sorted(scores, reverse=True)

    raw_settings = atlas_settings(root, fair_scoring=False, engine=EngineName.SFACE)
    with Atlas.open(settings=raw_settings) as atlas:
        raw = atlas.search(probe, top_k=5)
        assert not raw.fair_scoring and raw.threshold_source == "default"
        assert all(h.score is None and h.estimated_fpir is None for h in raw.hits)


def test_target_fpir_mode_tightens_the_threshold(tmp_path: Path, faces_dir: Path) -> None:
    known = faces_dir / "face_recognition" / "examples" / "knn_examples" / "train"
    probe = (faces_dir / "face_recognition" / "examples" / "obama.jpg").read_bytes()
    scorer = FairScorer.shipped(SFACE_MODEL_ID)
    assert scorer is not None
    with Atlas.open(settings=atlas_settings(tmp_path / "plain", engine=EngineName.SFACE)) as atlas:
        atlas.ingest(known)
        size = len(atlas.index)
    # half the false-candidate rate the default threshold has at this size: must tighten
    target = scorer.fpir.estimate(scorer.threshold, size).fpir_upper / 2
    settings = atlas_settings(tmp_path / "plain", target_fpir=target, engine=EngineName.SFACE)
    with Atlas.open(settings=settings) as atlas:
        result = atlas.search(probe)
        assert result.threshold_source == f"target FPIR {target:g}"
        assert result.threshold == scorer.fpir.threshold_for(target, size) > scorer.threshold
        assert result.threshold_fpir is not None and result.threshold_fpir.fpir_upper <= target
        assert all(h.score is not None and h.score >= result.threshold for h in result.hits)
    # a target no fit search can certify at this size returns nothing, and says why
    with Atlas.open(
        settings=atlas_settings(tmp_path / "plain", target_fpir=1e-9, engine=EngineName.SFACE)
    ) as atlas:
        nothing = atlas.search(probe)
        assert "not certifiable" in nothing.threshold_source and not nothing.hits
        assert nothing.threshold > 1.0


def test_optout_ignores_a_calibration_of_the_fair_score(tmp_path: Path) -> None:
    from faceatlas.engine.sface_card import SFACE_CARD
    from faceatlas.eval.calibration import scorer_calibration
    from faceatlas.privacy import optout_threshold

    with Atlas.open(settings=atlas_settings(tmp_path / "atlas", engine=EngineName.SFACE)) as atlas:
        scorer = atlas.searcher.fair_scorer()
        assert scorer is not None
        atlas.searcher.save_calibration(scorer_calibration(scorer).record())
        threshold, source = atlas.threshold()
        assert source == "calibration" and threshold == scorer.threshold  # search uses it
        # opt-out compares cosine similarities, so the fair calibration does not set it
        assert optout_threshold(atlas.scope) == (SFACE_CARD.optout_min_similarity, "default")
