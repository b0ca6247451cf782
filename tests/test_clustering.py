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


def cluster(
    tmp_path: Path,
    vecs: np.ndarray,
    merge: bool,
    join_votes: int = 1,
    split: bool = False,
    state: ClusterState | None = None,
) -> ClusterOutcome:
    """Cluster the faces of ``vecs`` not in ``state`` (ids are row numbers); the rule under
    test is switched on, the others as given."""
    index = FlatIndex(tmp_path / f"merge-{merge}-join-{join_votes}-split-{split}", "t", DIM)
    index.add(np.arange(len(vecs), dtype=np.int64), vecs)
    ids = iter(range(100, 1000))
    params = ClusterParams(
        min_similarity=0.5,
        min_centroid_similarity=0.344,
        merge_founded=merge,
        join_min_votes=join_votes,
        split_mixed=split,
    )
    state = state or ClusterState()
    run = [f for f in range(len(vecs)) if f not in state.assigned]
    return cluster_faces(run, vecs[run], index, state, params, lambda: next(ids))


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


def test_one_close_photo_is_not_enough_to_join_an_identity_of_three(tmp_path: Path) -> None:
    """Three photos of one person (0.8, 0.8, 0.64 apart) and a face like only the first of them
    (0.6 to it, 0.45 to the others): near enough the group's centroid, but with one neighbour."""
    e = np.eye(DIM, dtype=np.float32)
    person = [e[0], 0.8 * e[0] + 0.6 * e[1], 0.8 * e[0] + 0.6 * e[2]]
    lookalike = 0.6 * e[0] - 0.05 * (e[1] + e[2]) + np.sqrt(0.635) * e[3]
    vecs = unit(np.asarray([*person, lookalike], dtype=np.float32))
    sims = vecs @ vecs[3]
    assert sims[0] >= 0.5 > max(sims[1], sims[2])

    lax = cluster(tmp_path, vecs, merge=False, join_votes=1)
    assert lax.assigned[3] == lax.assigned[0]  # the guard alone lets it in

    strict = cluster(tmp_path, vecs, merge=False, join_votes=2)
    assert strict.assigned[0] == strict.assigned[1] == strict.assigned[2]
    assert strict.assigned.get(3) != strict.assigned[0]


def test_a_face_that_joined_early_is_held_to_the_rule_in_its_final_identity(
    tmp_path: Path,
) -> None:
    """Face 3 is like the first photo of person A (0.55) and like both photos of person Y (0.56).
    Placed densest first, it joins A while A holds one photo; A then grows to three photos, only
    one of them its neighbour. Settling moves it to Y, where both photos are its neighbours."""
    e = np.eye(DIM, dtype=np.float32)
    a = [e[0], 0.8 * e[0] + 0.6 * e[1], 0.8 * e[0] + 0.6 * e[2]]
    y = [0.8 * e[5] + 0.6 * e[6], 0.8 * e[5] + 0.6 * e[7]]
    face = 0.55 * e[0] + 0.7 * e[5] + np.sqrt(1 - 0.55**2 - 0.7**2) * e[3]
    vecs = unit(np.asarray([a[0], a[1], a[2], face, y[0], y[1]], dtype=np.float32))
    sims = vecs @ vecs[3]
    assert sims[0] >= 0.5 > max(sims[1], sims[2]) and min(sims[4], sims[5]) >= 0.5

    early = cluster(tmp_path, vecs, merge=False, join_votes=1)
    assert early.assigned[3] == early.assigned[0]  # order alone puts it with A

    settled = cluster(tmp_path, vecs, merge=False, join_votes=2)
    assert settled.assigned[0] == settled.assigned[1] == settled.assigned[2]
    assert settled.assigned[3] == settled.assigned[4] == settled.assigned[5]
    assert settled.assigned[3] != settled.assigned[0]


def lookalikes() -> np.ndarray:
    """Person A (faces 0-2: 0.77, 0.77, 0.59 apart) and person B (faces 3-5: 0.77-0.82 apart).
    A's first photo is within 0.52 of two of B's: every other pair across is far below 0.5."""
    e = np.eye(DIM)
    a = [e[0], 0.77 * e[0] + np.sqrt(1 - 0.77**2) * e[1], 0.77 * e[0] + np.sqrt(1 - 0.77**2) * e[2]]
    u = [
        e[5],
        0.75 * e[5] + np.sqrt(1 - 0.75**2) * e[6],
        0.75 * e[5] + 0.3 * e[6] + np.sqrt(1 - 0.75**2 - 0.09) * e[7],
    ]
    b = [
        0.52 * e[0] + np.sqrt(1 - 0.52**2) * u[0],
        0.52 * e[0] + np.sqrt(1 - 0.52**2) * u[1],
        0.3 * e[0] + np.sqrt(1 - 0.3**2) * u[2],
    ]
    return unit(np.asarray([*a, *b], dtype=np.float32))


def test_two_lookalikes_joined_through_one_photo_are_split_apart(tmp_path: Path) -> None:
    vecs = lookalikes()
    sims = vecs[:3] @ vecs[3:].T
    assert (sims >= 0.5).sum() == 2 and sims.mean() < 0.5 < min(sims[0, 0], sims[0, 1])

    joined = cluster(tmp_path, vecs, merge=True, join_votes=2)
    assert len({joined.assigned[f] for f in range(6)}) == 1  # placing and folding join them

    apart = cluster(tmp_path, vecs, merge=True, join_votes=2, split=True)
    a, b = {apart.assigned[f] for f in range(3)}, {apart.assigned[f] for f in range(3, 6)}
    assert len(a) == len(b) == 1 and a != b
    assert apart.split == 1 and a | b <= set(apart.founded)


def test_splitting_never_moves_a_face_placed_before_the_run(tmp_path: Path) -> None:
    """An earlier run put A's first photo and B's first photo in identity 7; the other four
    arrive now and join it. The same six in one run are split (above); here identity 7 holds
    faces placed before the run, so it is left whole: a person or a recluster decides."""
    vecs = lookalikes()
    before = ClusterState(assigned={0: 7, 3: 7}, sums={7: vecs[[0, 3]].astype(np.float64).sum(0)})
    later = cluster(tmp_path, vecs, merge=True, join_votes=2, split=True, state=before)
    assert later.assigned == {1: 7, 2: 7, 4: 7, 5: 7}
    assert later.split == 0
