"""Choose the clustering defaults on the "dev" half of LFW's people only.

    FACEATLAS_CACHE_DIR=/work/cache/faceatlas .venv/bin/python -m benchmarks.identities_select

The people of LFW are split in two by a hash of their name
(``identities_lfw.split_of``). This grid runs on the dev half; the chosen
setting is the one with the best BCubed F1 among those with pairwise
precision >= 0.99. ``identities_lfw.py --people test`` then reports the
held-out half, and ``--people all`` all of LFW.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from benchmarks.identities_lfw import ROOT, load, run_density
from faceatlas.eval.clustering import score_clusters
from faceatlas.identity.clustering import ClusterParams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--cache-only", action="store_true")
    args = parser.parse_args()
    _, vecs, labels = load(args.faces, args.cache_only, "dev")
    print(f"dev half: {len(labels)} photos, {len(set(labels))} people")
    best: tuple[float, ClusterParams] | None = None
    grid = itertools.product((0.93, 0.94, 0.95), (3, 4), (0.88, 0.9, 0.92), (1, 2))
    for sim, min_faces, centroid, votes in grid:
        params = ClusterParams(
            min_similarity=sim,
            min_faces=min_faces,
            min_centroid_similarity=centroid,
            border_min_votes=votes,
        )
        predicted, _ = run_density(vecs, params, 1, 0)
        s = score_clusters(labels, predicted)
        ok = s.pairwise_precision >= 0.99
        print(
            f"sim={sim} min_faces={min_faces} centroid={centroid} border={votes}: "
            f"pairwise P={s.pairwise_precision:.4f} R={s.pairwise_recall:.4f} "
            f"BCubed F1={s.bcubed_f1:.4f}{'' if ok else '  (precision < 0.99)'}",
            flush=True,
        )
        if ok and (best is None or s.bcubed_f1 > best[0]):
            best = (s.bcubed_f1, params)
    print("chosen:", best)


if __name__ == "__main__":
    main()
