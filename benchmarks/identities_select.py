"""Choose the clustering defaults using the labels of the "dev" half of LFW's people only.

    FACEATLAS_CACHE_DIR=/work/cache/faceatlas .venv/bin/python -m benchmarks.identities_select

The people of LFW are split in two by a hash of their name
(``identities_lfw.split_of``). Every LFW photo is clustered (so each face
meets as many look-alikes as in the final run), but each setting is scored on
the photos of dev people only: the test half's labels are never read. The
chosen setting has the best BCubed F1 among those with pairwise precision
>= 0.99 on the dev people. ``identities_lfw.py --people test`` reports the
held-out half, ``--people all`` all of LFW.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.identities_lfw import ROOT, engine_params, load, run_density, split_of
from faceatlas.eval.clustering import score_clusters
from faceatlas.identity.clustering import ClusterParams

DEV_MIN_PRECISION = 0.99
DLIB_GRID = [
    *itertools.product((0.95,), (3,), (0.92, 0.93, 0.94), (1, 2), (1,)),
    (0.955, 3, 0.92, 1, 1),
    (0.955, 3, 0.92, 2, 1),
    (0.95, 2, 0.92, 1, 1),
    (0.955, 2, 0.92, 1, 1),
    (0.96, 2, 0.92, 1, 1),
    (0.96, 3, 0.92, 1, 1),
    (0.95, 2, 0.92, 1, 2),
]
SFACE_GRID = list(
    itertools.product((0.42, 0.462, 0.5, 0.55), (2, 3), (0.3, 0.344, 0.4, 0.45), (1,), (1, 2))
)
"""Around the values carried over from dlib's at equal false-match rate (0.462, 0.344)."""
GRIDS = {"dlib": DLIB_GRID, "sface": SFACE_GRID}
"""(min_similarity, min_faces, min_centroid_similarity, border_min_votes, join_min_votes): the
settings tried per engine."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--cache-only", action="store_true")
    parser.add_argument("--engine", choices=sorted(GRIDS), default="sface")
    parser.add_argument("--limit", type=int, help="try the first N settings of the grid only")
    args = parser.parse_args()
    _, vecs, labels = load(args.faces, args.cache_only, "all", args.engine)
    params_now = engine_params(args.engine)
    dev = [i for i, lab in enumerate(labels) if split_of(lab) == "dev"]
    dev_labels = [labels[i] for i in dev]
    print(f"all photos: {len(labels)}; scored on dev people: {len(dev)} photos")
    best: tuple[float, ClusterParams] | None = None
    for sim, min_faces, centroid, votes, join in GRIDS[args.engine][: args.limit]:
        params = replace(
            params_now,
            min_similarity=sim,
            min_faces=min_faces,
            min_centroid_similarity=centroid,
            border_min_votes=votes,
            join_min_votes=join,
        )
        predicted, _ = run_density(vecs, params, 1, 0)
        s = score_clusters(dev_labels, [predicted[i] for i in dev])
        ok = s.pairwise_precision >= DEV_MIN_PRECISION
        print(
            f"sim={sim} min_faces={min_faces} centroid={centroid} border={votes} join={join}: "
            f"pairwise P={s.pairwise_precision:.4f} R={s.pairwise_recall:.4f} "
            f"BCubed F1={s.bcubed_f1:.4f}{'' if ok else f'  (precision < {DEV_MIN_PRECISION})'}",
            flush=True,
        )
        if ok and (best is None or s.bcubed_f1 > best[0]):
            best = (s.bcubed_f1, params)
    print("chosen:", best)


if __name__ == "__main__":
    main()
