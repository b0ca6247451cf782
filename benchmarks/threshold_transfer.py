"""Carry similarity thresholds chosen for one model over to another by equal false-match rate.

A threshold means "this often do two different people score above it". For
each threshold given for the source model (dlib), this script measures that
rate on every pair of different people among the LFW View 2 photos, and
gives the target model's (SFace's) similarity with the same rate on the same
pairs, with the share of same-person pairs each keeps. Both models' vectors
come from ``embed_photos`` caches (computed when missing).

    python benchmarks/threshold_transfer.py --source-cache /work/cache/faceatlas \\
        --target-cache /tmp/lfw/sface 0.93 0.90 0.80
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from faceatlas.choices import DlibBackend, EngineName
from faceatlas.engine import EngineSpec
from faceatlas.eval.datasets import read_lfw_pairs
from faceatlas.eval.embed import embed_photos
from lfw_model import embedding_progress

ROOT = Path(__file__).resolve().parent.parent


def pair_similarities(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Similarities of every pair ``i < j``: (different people, same person)."""
    sims = vectors.astype(np.float32) @ vectors.astype(np.float32).T
    upper = np.triu_indices(len(labels), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    values = sims[upper]
    return values[~same], values[same]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_faces = Path(os.environ.get("FACEATLAS_TEST_FACES", ROOT.parent / "shared/faces"))
    parser.add_argument("thresholds", type=float, nargs="+", help="Source-model thresholds.")
    parser.add_argument("--faces-dir", type=Path, default=default_faces)
    parser.add_argument("--source-cache", type=Path, required=True)
    parser.add_argument("--target-cache", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        help="about this many pairs, spread over every fold (0: all)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    lfw = args.faces_dir / "lfw"
    pairs = read_lfw_pairs(lfw / "pairs.txt", lfw / "images")
    if args.pairs:
        pairs = pairs[:: max(1, len(pairs) // args.pairs)]
    photos = sorted({p.a for p in pairs} | {p.b for p in pairs})
    labels = np.unique([p.parent.name for p in photos], return_inverse=True)[1]
    source = embed_photos(
        photos,
        replace(EngineSpec.for_engine(EngineName.DLIB), dlib_backend=DlibBackend.DLIB),
        workers=args.workers,
        cache_dir=args.source_cache,
        progress=embedding_progress,
    )
    target = embed_photos(
        photos,
        EngineSpec.for_engine(EngineName.SFACE),
        workers=args.workers,
        cache_dir=args.target_cache,
        progress=embedding_progress,
    )
    ok = (source.status != 2) & (target.status != 2)
    src_diff, src_same = pair_similarities(source.vectors[ok], labels[ok])
    dst_diff, dst_same = pair_similarities(target.vectors[ok], labels[ok])
    print(
        f"{ok.sum()} photos, {len(src_diff)} different-person pairs, "
        f"{len(src_same)} same-person pairs"
    )
    print(
        f"{'source':>8} {'false-match rate':>17} {'target':>8} {'same kept (src)':>16} {'(target)':>9}"
    )
    rows = []
    for t in args.thresholds:
        rate = float((src_diff >= t).mean())
        mapped = float(np.quantile(dst_diff, 1.0 - rate)) if rate > 0 else float(dst_diff.max())
        row = {
            "source_threshold": t,
            "false_match_rate": rate,
            "target_threshold": round(mapped, 4),
            "same_person_kept_source": round(float((src_same >= t).mean()), 4),
            "same_person_kept_target": round(float((dst_same >= mapped).mean()), 4),
        }
        rows.append(row)
        print(
            f"{t:8.3f} {rate:17.2e} {mapped:8.4f} {row['same_person_kept_source']:16.4f} "
            f"{row['same_person_kept_target']:9.4f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
