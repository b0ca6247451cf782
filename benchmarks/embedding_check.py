"""Do an engine's embeddings still equal the ones its thresholds were calibrated on?

Recomputes, with the code as it is now, the embeddings of the photos of a sample of LFW View 2
pairs (``../shared/faces/lfw/pairs.txt``, spread over every fold and both labels) and compares
them and the pairs' cosine scores with the evaluation cache (``FACEATLAS_CACHE_DIR``), which
earlier code computed (where the cache lacks a sampled photo, this script computes it first, so
on an empty cache the check only shows that it runs). Speed work on the ingest path must leave
both unchanged but for float noise.

    FACEATLAS_CACHE_DIR=/work/cache/faceatlas python benchmarks/embedding_check.py --pairs 300
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec
from faceatlas.eval.datasets import read_lfw_pairs
from faceatlas.eval.embed import default_cache_dir, embed_photos
from faceatlas.eval.lfw import pair_scores, select_pairs
from lfw_model import FACES, embedding_progress


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", type=EngineName, default=EngineName.SFACE)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--faces-dir", type=Path, default=FACES)
    args = parser.parse_args()
    spec = EngineSpec.for_engine(args.engine)
    images = args.faces_dir / "lfw" / "images"
    pairs = select_pairs(read_lfw_pairs(args.faces_dir / "lfw" / "pairs.txt", images), args.pairs)
    photos = sorted({p.a for p in pairs} | {p.b for p in pairs})
    cached = embed_photos(  # the cache's vectors; computed now for photos it lacks
        photos,
        spec,
        workers=2,
        cache_dir=default_cache_dir(),
        progress=embedding_progress,
    )
    with tempfile.TemporaryDirectory() as tmp:
        fresh = embed_photos(photos, spec, workers=args.workers, cache_dir=Path(tmp))
    before, now = cached.lookup(), fresh.lookup()
    keys = [str(p.resolve()) for p in photos]
    vector_diff = max(
        float(np.abs(cached.vectors[before[k]] - fresh.vectors[now[k]]).max()) for k in keys
    )
    status_changed = sum(int(cached.status[before[k]] != fresh.status[now[k]]) for k in keys)
    score_diff = np.abs(pair_scores(pairs, cached) - pair_scores(pairs, fresh))
    result = {
        "engine": args.engine.value,
        "pairs": len(pairs),
        "photos": len(photos),
        "max_abs_vector_difference": vector_diff,
        "max_abs_pair_score_difference": float(score_diff.max()),
        "mean_abs_pair_score_difference": float(score_diff.mean()),
        "photos_with_another_detection_status": status_changed,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
