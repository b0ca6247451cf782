"""The clustering rule itself, on vectors whose layout is known, over a real FAISS index."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceatlas.identity.clustering import ClusterOutcome, ClusterParams, ClusterState, cluster_faces
from faceatlas.index import FlatIndex

DIM = 32


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def two_people() -> np.ndarray:
    """Fourteen noisy photos of one person, then six of another (seed fixed: with it, placing
    faces densest first founds a second identity for the first person)."""
    rng = np.random.default_rng(21)
    person, _, other = unit(rng.normal(size=(3, DIM)))
    faces = [unit(c + rng.normal(size=DIM) / np.sqrt(DIM)) for c in [person] * 14 + [other] * 6]
    return np.asarray(faces, dtype=np.float32)


def cluster(tmp_path: Path, vecs: np.ndarray, merge: bool) -> ClusterOutcome:
    index = FlatIndex(tmp_path / ("merge" if merge else "plain"), "t", DIM)
    index.add(np.arange(len(vecs), dtype=np.int64), vecs)
    ids = iter(range(1, 1000))
    params = ClusterParams(min_similarity=0.5, min_centroid_similarity=0.344, merge_founded=merge)
    return cluster_faces(
        list(range(len(vecs))), vecs, index, ClusterState(), params, lambda: next(ids)
    )


def test_identities_founded_apart_for_one_person_are_folded_together(tmp_path: Path) -> None:
    vecs = two_people()
    plain = cluster(tmp_path, vecs, merge=False)
    first = {plain.assigned.get(f) for f in range(14)}
    assert len(first) >= 2 and None not in first  # the split the merge step exists for

    merged = cluster(tmp_path, vecs, merge=True)
    first = {merged.assigned.get(f) for f in range(14)}
    second = {merged.assigned.get(f) for f in range(14, 20)}
    assert len(first) == 1 and None not in first
    assert not first & second  # the other person stays apart
    assert merged.merged >= 1
    assert set(merged.founded) == first | (second - {None})
