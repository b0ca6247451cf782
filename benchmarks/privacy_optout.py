"""Opt-out by face on LFW: how much of a person it removes, and how much of everyone else.

Protocol (fixed before looking at the test half; see docs/privacy.md):

* Every LFW photo is embedded once with the chosen engine (``--engine``; the
  cached embeddings of ``faceatlas.eval.embed``); only photos where the detector found the face
  take part (an atlas stores detected faces only, and a selfie with no face
  is refused), so fallback boxes are left out.
* LFW people are split in two halves by the parity of SHA-256 of their name.
  The **dev** half chooses each engine's built-in opt-out threshold: the lowest
  threshold of the grid at which one opt-out erases at most ``OPTOUT_ERASURE_BUDGET`` (0.05%)
  of everyone else's faces. The **test** half gives the reported numbers.
* In a half, people with at least 8 photos are eligible; the first 50 by
  SHA-256 of the name opt out. Each opts out with 3 of their photos (the first
  3 by SHA-256 of the file name); those 150 photos are removed from the atlas
  first, so the selfies are not in it. The atlas is every other LFW photo of
  either half.
* A stored face is erased by an opt-out when its best cosine similarity to
  the person's 3 templates reaches the threshold, exactly as
  ``faceatlas.privacy.matching_faces`` does (same function).
* Reported per threshold: the share of the subjects' remaining faces erased
  (own), the share of everyone else's faces erased by one opt-out (averaged
  over the 50), and the share of faces of people who did not opt out erased
  by all 50 opt-outs together (union). The baseline row is the same opt-out
  at the built-in *search* threshold.

    python benchmarks/privacy_optout.py [--engine sface|dlib] [--split test|dev] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec, create_engine, shipped_card
from faceatlas.eval.datasets import lfw_people
from faceatlas.eval.embed import default_cache_dir, embed_photos
from faceatlas.privacy.matching import (
    OPTOUT_ERASURE_BUDGET,
    OPTOUT_TARGET_FMR,
    best_similarity,
)
from lfw_model import embedding_progress

SUBJECTS = 50
MIN_PHOTOS = 8
SELFIES = 3
GRIDS = {
    EngineName.DLIB: np.round(np.arange(0.80, 0.991, 0.005), 3),
    EngineName.SFACE: np.round(np.arange(0.30, 0.901, 0.005), 3),
}
"""Thresholds tried per engine (0.005 steps over each engine's own scale)."""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def half_of(name: str) -> str:
    return "dev" if int(sha(name), 16) % 2 == 0 else "test"


@dataclass
class Curves:
    thresholds: np.ndarray
    own: np.ndarray  # share of the subjects' remaining faces erased
    other_per_optout: np.ndarray  # share of everyone else's faces erased by one opt-out
    other_union: np.ndarray  # share of non-subjects' faces erased by all opt-outs together
    subjects_at_90: np.ndarray  # share of subjects with >= 90% of their faces erased
    own_total: int
    others_total: int
    union_total: int


def simulate(
    vectors: np.ndarray,
    labels: np.ndarray,
    subjects: list[str],
    selfies: dict[str, list[int]],
    grid: np.ndarray,
) -> Curves:
    in_atlas = np.ones(len(labels), dtype=bool)
    for rows in selfies.values():
        in_atlas[rows] = False
    atlas_rows = np.flatnonzero(in_atlas)
    atlas_vecs = vectors[atlas_rows]
    atlas_labels = labels[atlas_rows]
    own_erased = np.zeros(len(grid))
    other_erased = np.zeros(len(grid))
    own_total = others_total = 0
    at_90 = np.zeros(len(grid))
    union_best = np.full(len(atlas_rows), -np.inf, dtype=np.float32)
    for name in subjects:
        best = best_similarity(atlas_vecs, vectors[selfies[name]])
        own = atlas_labels == name
        own_total += int(own.sum())
        others_total += int((~own).sum())
        own_counts = np.array([(best[own] >= t).sum() for t in grid])
        own_erased += own_counts
        other_erased += np.array([(best[~own] >= t).sum() for t in grid])
        at_90 += own_counts >= 0.9 * own.sum()
        union_best = np.maximum(union_best, best)
    bystanders = ~np.isin(atlas_labels, subjects)
    union = np.array([(union_best[bystanders] >= t).sum() for t in grid])
    return Curves(
        grid,
        own_erased / own_total,
        other_erased / others_total,
        union / bystanders.sum(),
        at_90 / len(subjects),
        own_total,
        others_total,
        int(bystanders.sum()),
    )


def impostor_threshold(vectors: np.ndarray, labels: np.ndarray, fmr: float) -> tuple[float, int]:
    """Similarity at which ``fmr`` of all cross-person pairs match, and the pair count."""
    edges = np.linspace(-1.0, 1.0, 40_001)
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    codes = np.unique(labels, return_inverse=True)[1]
    pairs = 0
    for start in range(0, len(vectors), 1000):
        sims = vectors[start : start + 1000] @ vectors.T
        rows = np.arange(start, min(start + 1000, len(vectors)))
        upper = np.arange(len(vectors))[None, :] > rows[:, None]
        impostor = upper & (codes[rows][:, None] != codes[None, :])
        counts += np.histogram(sims[impostor], bins=edges)[0]
        pairs += int(impostor.sum())
    above = np.cumsum(counts[::-1])[::-1]  # pairs scoring >= each lower edge
    i = int(np.argmax(above <= fmr * pairs))
    return float(edges[i]), pairs


def at(curves: Curves, threshold: float) -> dict[str, float]:
    i = int(np.argmin(np.abs(curves.thresholds - threshold)))
    assert abs(curves.thresholds[i] - threshold) < 1e-6, threshold
    return {
        "threshold": float(curves.thresholds[i]),
        "own_erased": float(curves.own[i]),
        "other_erased_per_optout": float(curves.other_per_optout[i]),
        "other_erased_all_50": float(curves.other_union[i]),
        "subjects_with_90pct_erased": float(curves.subjects_at_90[i]),
    }


def plot(curves: Curves, threshold: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax1 = plt.subplots(figsize=(7, 4.2))
    ax1.plot(curves.thresholds, 100 * curves.own, "b-", label="own remaining faces erased")
    ax1.set_xlabel("opt-out threshold (cosine similarity)")
    ax1.set_ylabel("own faces erased (%)", color="b")
    ax1.axhline(90, color="b", linestyle=":", linewidth=0.8)
    ax2 = ax1.twinx()
    ax2.semilogy(
        curves.thresholds,
        100 * np.maximum(curves.other_per_optout, 1e-7),
        "r-",
        label="others erased, one opt-out",
    )
    ax2.semilogy(
        curves.thresholds,
        100 * np.maximum(curves.other_union, 1e-7),
        "r--",
        label="others erased, all 50 opt-outs",
    )
    ax2.axhline(0.1, color="r", linestyle=":", linewidth=0.8)
    ax2.set_ylabel("everyone else's faces erased (%, log)", color="r")
    ax1.axvline(threshold, color="k", linewidth=0.8)
    lines = ax1.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    names = ax1.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax1.legend(lines, names, loc="lower left", fontsize=8)
    ax1.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_faces = Path(os.environ.get("FACEATLAS_TEST_FACES", "../shared/faces"))
    parser.add_argument("--faces", type=Path, default=default_faces)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    parser.add_argument("--engine", choices=[e.value for e in EngineName], default="sface")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write <out>.png and <out>.json")
    args = parser.parse_args()

    started = time.perf_counter()
    people = lfw_people(args.faces / "lfw" / "images")
    paths = [p for photos in people.values() for p in photos]
    names = np.array([p.parent.name for p in paths])
    engine = EngineName(args.engine)
    spec = EngineSpec.for_engine(engine)
    model_id = create_engine(spec).model_id
    search = round(shipped_card(model_id).required("search_min_similarity"), 3)
    grid = np.union1d(GRIDS[engine], [search])
    es = embed_photos(
        paths, spec, workers=args.workers, cache_dir=args.cache_dir, progress=embedding_progress
    )
    detected = es.status == 0
    vectors = es.vectors[detected]
    labels = names[detected]
    files = [p.name for p, d in zip(paths, detected, strict=True) if d]
    rows_of: dict[str, list[int]] = {}
    for i, name in enumerate(labels):
        rows_of.setdefault(str(name), []).append(i)
    eligible = sorted(
        (n for n, rows in rows_of.items() if len(rows) >= MIN_PHOTOS and half_of(n) == args.split),
        key=sha,
    )
    subjects = eligible[:SUBJECTS]
    selfies = {n: sorted(rows_of[n], key=lambda r: sha(files[r]))[:SELFIES] for n in subjects}
    curves = simulate(vectors, labels, subjects, selfies, grid)

    within = curves.other_per_optout <= OPTOUT_ERASURE_BUDGET
    lowest = float(grid[int(np.argmax(within))]) if within.any() else None
    strict = shipped_card(model_id).optout_min_similarity or lowest
    if strict is None:
        raise SystemExit(
            f"no threshold on the grid keeps one opt-out within {OPTOUT_ERASURE_BUDGET:.2%}"
        )
    half = np.array([half_of(str(n)) == args.split for n in labels])
    t5, pairs = impostor_threshold(vectors[half], labels[half], 1e-5)
    t_target, _ = impostor_threshold(vectors[half], labels[half], OPTOUT_TARGET_FMR)
    result = {
        "engine": engine.value,
        "model_id": model_id,
        "split": args.split,
        "photos": len(paths),
        "detected": int(detected.sum()),
        "subjects": len(subjects),
        "eligible_in_split": len(eligible),
        "subjects_remaining_faces": curves.own_total,
        "others_faces_per_optout": curves.others_total // len(subjects),
        "bystander_faces": curves.union_total,
        "similarity_at_fmr_1e-5": {"value": t5, "impostor_pairs": pairs},
        "similarity_at_optout_target_fmr": {"fmr": OPTOUT_TARGET_FMR, "value": t_target},
        "lowest_threshold_within_budget": {"budget": OPTOUT_ERASURE_BUDGET, "value": lowest},
        "strict": at(curves, strict),
        "baseline_search_threshold": at(curves, search),
        "curve": [
            {
                "threshold": float(t),
                "own_erased": round(float(o), 5),
                "other_erased_per_optout": float(p),
                "other_erased_all_50": float(u),
            }
            for t, o, p, u in zip(
                curves.thresholds,
                curves.own,
                curves.other_per_optout,
                curves.other_union,
                strict=True,
            )
        ],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    s, b = result["strict"], result["baseline_search_threshold"]
    print(
        f"LFW opt-out, {args.split} half: {len(subjects)} subjects of {len(eligible)} eligible, "
        f"{curves.own_total} remaining own faces, {curves.union_total} bystander faces"
    )
    print(
        f"similarity at FMR 1e-5 over {pairs:,} impostor pairs of this half: {t5:.4f}; "
        f"at the opt-out target FMR {OPTOUT_TARGET_FMR:g}: {t_target:.4f}"
    )
    print(
        f"lowest threshold keeping one opt-out within {OPTOUT_ERASURE_BUDGET:.2%} of others: {lowest}"
    )
    print(f"{'threshold':>9} {'own erased':>11} {'others/opt-out':>15} {'others, all 50':>15}")
    for row in result["curve"]:
        mark = " <- opt-out default" if abs(row["threshold"] - strict) < 1e-6 else ""
        mark = " <- search default" if abs(row["threshold"] - search) < 1e-6 else mark
        print(
            f"{row['threshold']:>9.3f} {100 * row['own_erased']:>10.2f}% "
            f"{100 * row['other_erased_per_optout']:>14.4f}% "
            f"{100 * row['other_erased_all_50']:>14.4f}%{mark}"
        )
    print(
        f"at the opt-out threshold {strict:.3f}: own {100 * s['own_erased']:.2f}%, "
        f"others per opt-out {100 * s['other_erased_per_optout']:.4f}%, "
        f"others all 50 {100 * s['other_erased_all_50']:.4f}%, "
        f"subjects with >=90% erased {100 * s['subjects_with_90pct_erased']:.0f}%"
    )
    print(
        f"same opt-out at the search threshold {search:.3f}: own {100 * b['own_erased']:.2f}%, "
        f"others per opt-out {100 * b['other_erased_per_optout']:.4f}%"
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(result, indent=2))
        plot(
            curves,
            strict,
            args.out.with_suffix(".png"),
            f"LFW opt-out ({args.split} half): {len(subjects)} people, 3 selfies each",
        )
        print(f"wrote {args.out.with_suffix('.png')} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
