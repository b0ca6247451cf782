"""LFW View 2 (6,000 pairs, 10 folds): FaceAtlas against the plain face_recognition pipeline.

Both are scored by the same 10-fold code (threshold chosen on nine folds,
tested on the tenth). The baseline is what a face_recognition user writes:
``face_locations`` (HOG, upsample 1) then ``face_encodings`` of the first
face found; when none is found, the whole photo is encoded. Its encodings are
normalised to unit length so both use cosine similarity. FaceAtlas uses the
face nearest the photo centre and, when the detector finds none, the centred
box LFW photos are built around (see ``faceatlas.eval.embed``).

    python benchmarks/lfw_baseline.py [--limit 1200] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec
from faceatlas.eval.datasets import read_lfw_pairs
from faceatlas.eval.embed import default_cache_dir
from faceatlas.eval.lfw import run_lfw, select_pairs, verification_report
from lfw_model import embedding_progress


def baseline_embed(path: str) -> tuple[np.ndarray, bool]:
    import face_recognition

    image = face_recognition.load_image_file(path)
    locations = face_recognition.face_locations(image)
    found = bool(locations)
    if not found:
        locations = [(0, image.shape[1], image.shape[0], 0)]
    encoding = face_recognition.face_encodings(image, locations[:1])[0]
    return (encoding / np.linalg.norm(encoding)).astype(np.float32), found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_faces = Path(
        os.environ.get("FACEATLAS_TEST_FACES", Path(__file__).resolve().parents[2] / "shared/faces")
    )
    parser.add_argument("--faces-dir", type=Path, default=default_faces)
    parser.add_argument(
        "--limit", type=int, default=None, help="About this many pairs, over all folds."
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    lfw = args.faces_dir / "lfw"
    pairs = select_pairs(read_lfw_pairs(lfw / "pairs.txt", lfw / "images"), args.limit)
    photos = sorted({str(p.a.resolve()) for p in pairs} | {str(p.b.resolve()) for p in pairs})

    started = time.perf_counter()
    ours = run_lfw(
        lfw / "pairs.txt",
        lfw / "images",
        EngineSpec.for_engine(EngineName.DLIB),
        limit=args.limit,
        workers=args.workers,
        progress=embedding_progress,
    )
    ours_s = time.perf_counter() - started

    cache = default_cache_dir() / "embeddings" / "face_recognition-baseline.npz"
    known: dict[str, tuple[np.ndarray, bool]] = {}
    if cache.is_file():
        with np.load(cache) as data:
            known = {
                str(p): (v, bool(f))
                for p, v, f in zip(data["paths"], data["vectors"], data["found"], strict=True)
            }
    todo = [p for p in photos if p not in known]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = pool.map(baseline_embed, todo, chunksize=16)
        for done, (path, result) in enumerate(zip(todo, results, strict=True), 1):
            known[path] = result
            if done == len(todo) or done % max(1, len(todo) // 20) == 0:
                print(f"face_recognition baseline: {done}/{len(todo)} photos", file=sys.stderr)
    base_s = time.perf_counter() - started
    cache.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(known)
    np.savez(
        cache,
        paths=np.asarray(keys),
        vectors=np.stack([known[k][0] for k in keys]),
        found=np.asarray([known[k][1] for k in keys]),
    )
    a = np.stack([known[str(p.a.resolve())][0] for p in pairs]).astype(np.float64)
    b = np.stack([known[str(p.b.resolve())][0] for p in pairs]).astype(np.float64)
    missed = sum(not known[p][1] for p in photos)
    base = verification_report(
        "face_recognition baseline", pairs, np.einsum("ij,ij->i", a, b), fallback=missed
    )

    print(f"{'pipeline':28} {'accuracy':>9} {'± std':>7} {'AUC':>8} {'TAR@1e-3':>9} {'no face':>8}")
    for name, r in (("faceatlas (dlib)", ours), ("face_recognition baseline", base)):
        print(
            f"{name:28} {r.mean_accuracy:9.4f} {r.std_accuracy:7.4f} {r.roc_auc:8.5f} "
            f"{r.tar_at_far_1e3:9.4f} {r.fallback_faces:8d}"
        )
    print(
        f"accuracy difference (faceatlas - baseline): {ours.mean_accuracy - base.mean_accuracy:+.4f}"
    )
    print(
        f"pairs {len(pairs)}, photos {len(photos)}; "
        f"embedding time this run: ours {ours_s:.0f} s, baseline {base_s:.0f} s"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"faceatlas": ours.as_dict(), "baseline": base.as_dict()}, indent=2)
        )


if __name__ == "__main__":
    main()
