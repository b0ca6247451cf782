"""Score fusion of the two shipped models (SFace and the dlib ResNet): does it earn its place?

Each model's similarity is turned into its calibrated false-match rate (the share of impostor
pairs of the calibration half scoring at least as much), and the fused score is the mean of the
two ``-log10(FMR)``. Reported, for SFace alone, dlib alone and the fusion:

* LFW View 2 10-fold accuracy (threshold chosen on the other nine folds);
* FMR within each UTKFace age band and race label of the held-out half, at the threshold
  that gives FMR 1e-5 on the calibration half's impostor pairs (LFW and UTKFace pooled);
* embedding time per photo of each model, measured in the same run (the fusion costs both).

    python benchmarks/fusion.py [--faces ../shared/faces] [--workers 2] [--sample 60]

``--sample N`` (a quick run) keeps N LFW calibration people, N UTKFace photos and about N View 2
pairs (the same share of each fold and label).

The fair scorer is not applied here: this compares the models' raw scores and their fusion.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec, create_engine, decode_image
from faceatlas.eval.corpus import Corpus, Half, lfw_corpus, utkface_corpus
from faceatlas.eval.datasets import read_lfw_pairs
from faceatlas.eval.embedded import (
    cross_identity_scores,
    embed_corpus,
    identity_codes,
)
from faceatlas.eval.metrics import k_fold_accuracy, threshold_at_far
from faceatlas.eval.rates import rate
from faceatlas.search import FmrMapping
from lfw_model import embedding_progress

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1e-5


def minus_log_fmr(mapping: FmrMapping, scores: np.ndarray) -> np.ndarray:
    """``-log10`` of the calibrated FMR of each score (floored at one impostor pair)."""
    idx = np.clip(np.searchsorted(mapping.grid, scores, side="right") - 1, 0, None)
    counts = np.maximum(mapping.false_matches[idx], 1)
    return -np.log10(counts / mapping.comparisons)


def embed_time(spec: EngineSpec, paths: list[Path]) -> float:
    engine = create_engine(spec)
    engine.load()
    start = time.perf_counter()
    for p in paths:
        image = decode_image(p.read_bytes(), max_pixels=40_000_000).pixels
        faces = engine.detect(image)
        if faces:
            engine.embed_chips([engine.align(image, faces[0])])
    return (time.perf_counter() - start) / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--sample", type=int, default=0, help="a quick run on N of each (0: all)")
    args = parser.parse_args()
    specs = {
        "sface": EngineSpec.for_engine(EngineName.SFACE),
        "dlib": EngineSpec.for_engine(EngineName.DLIB),
    }
    pairs = read_lfw_pairs(args.faces / "lfw" / "pairs.txt", args.faces / "lfw" / "images")
    if args.sample:  # View 2 holds 10 folds of 300 mated then 300 non-mated pairs
        per_half_fold = max(1, args.sample // 20)
        pairs = [p for i, p in enumerate(pairs) if i % 300 < per_half_fold]
    view2_paths = sorted({p.a for p in pairs} | {p.b for p in pairs})
    lfw = lfw_corpus(args.faces / "lfw")
    fit_lfw = lfw.half(Half.CALIBRATION)
    cap = {i[0] for i in fit_lfw.by_identity().values()}  # one photo a person keeps dlib cheap
    fit_lfw = fit_lfw.subset(sorted(cap)[: args.sample or None])
    utk = utkface_corpus(args.faces / "utkface")
    utk = utk.subset(range(min(len(utk.paths), args.sample or len(utk.paths))))
    view2 = Corpus("lfw-view2", tuple(view2_paths), tuple(p.parent.name for p in view2_paths))
    fused_parts: dict[str, dict[str, np.ndarray]] = {}
    mappings: dict[str, FmrMapping] = {}
    for name, spec in specs.items():
        fit = [embed_corpus(c, spec, workers=args.workers, cache_dir=args.cache_dir,
                            progress=embedding_progress)
               for c in (fit_lfw, utk)]  # fmt: skip
        parts = [fit[0], fit[1].half(Half.CALIBRATION)]
        vectors = np.concatenate([p.vectors for p in parts])
        codes = identity_codes([f"{p.corpus.name}|{i}" for p in parts for i in p.corpus.identities])
        mappings[name] = FmrMapping.from_scores(cross_identity_scores(vectors, codes))
        v2 = embed_corpus(
            view2, spec, workers=args.workers, cache_dir=args.cache_dir, progress=embedding_progress
        )
        where = {str(p): i for i, p in enumerate(v2.corpus.paths)}
        a = v2.vectors[[where[str(p.a)] for p in pairs]]
        b = v2.vectors[[where[str(p.b)] for p in pairs]]
        held = fit[1].half(Half.HELD_OUT)
        fused_parts[name] = {
            "view2": np.einsum("ij,ij->i", a, b),
            "utk_vectors": held.vectors,
        }
        fused_parts[name]["fit_scores"] = cross_identity_scores(vectors, codes)
    same = np.asarray([p.same for p in pairs])
    folds = np.repeat(np.arange(10), len(pairs) // 10)
    held = embed_corpus(utk, specs["sface"], cache_dir=args.cache_dir).half(Half.HELD_OUT)
    labels = {attr: held.corpus.groups[attr] for attr in ("age", "race")}
    codes = identity_codes(list(held.corpus.identities))
    iu = np.triu_indices(len(codes), 1)
    impostor = codes[iu[0]] != codes[iu[1]]

    def utk_pairs(name: str) -> np.ndarray:
        x = fused_parts[name]["utk_vectors"]
        return (x @ x.T)[iu]

    scores = {
        "sface": {"view2": fused_parts["sface"]["view2"], "utk": utk_pairs("sface"),
                  "fit": fused_parts["sface"]["fit_scores"]},
        "dlib": {"view2": fused_parts["dlib"]["view2"], "utk": utk_pairs("dlib"),
                 "fit": fused_parts["dlib"]["fit_scores"]},
    }  # fmt: skip
    fused: dict[str, np.ndarray] = {}
    for key in ("view2", "utk", "fit"):
        fused[key] = (
            minus_log_fmr(mappings["sface"], scores["sface"][key])
            + minus_log_fmr(mappings["dlib"], scores["dlib"][key])
        ) / 2.0
    scores["fusion"] = fused
    print(f"{'':8} {'View 2 acc':>10}  threshold  " + "  ".join(
        f"{g:>18}" for attr in labels for g in sorted({x for x in labels[attr] if x})
    ))  # fmt: skip
    for name, s in scores.items():
        acc = float(np.mean(k_fold_accuracy(s["view2"], same, folds)[0]))
        t = threshold_at_far(s["fit"].astype(np.float64), TARGET)
        cells = []
        for lab in labels.values():
            lab_arr = np.asarray([x or "" for x in lab])
            for g in sorted({x for x in lab if x}):
                both = (lab_arr[iu[0]] == g) & (lab_arr[iu[1]] == g) & impostor
                r = rate(int((s["utk"][both] >= t).sum()), int(both.sum()))
                cells.append(f"{r.errors:>5}/{r.trials:<7,} {r.value:.0e}")
        print(f"{name:8} {acc:10.4f}  {t:9.4f}  " + "  ".join(f"{c:>18}" for c in cells))
    sample = list(view2_paths[:: max(1, len(view2_paths) // 150)])[: args.sample or None]
    times = {name: embed_time(spec, sample) for name, spec in specs.items()}
    print(
        f"embedding time per photo ({len(sample)} photos, one core): "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items())
        + f"; fusion {sum(times.values()) * 1000:.0f} ms "
        f"({sum(times.values()) / times['sface']:.1f} x SFace alone)"
    )


if __name__ == "__main__":
    main()
