"""The passes of a clustering run after faces are first placed, and the run's working state.

:func:`faceatlas.identity.clustering.cluster_faces` places faces densest first; the passes
here then hold every placed face to the joining rule in its final identity (:func:`settle`),
fold identities founded in the run into the identity they continue (:func:`merge_founded`)
and split identities that hold two people (:func:`split_mixed`). :func:`group_need` and
:func:`votes_needed` are the joining rules both share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ClusterRun",
    "Neighbours",
    "group_need",
    "merge_founded",
    "settle",
    "split_mixed",
    "votes_needed",
]

Neighbours = Mapping[int, list[tuple[int, float]]]
"""Face id -> its neighbours as ``(face id, cosine similarity)``, most similar first."""

MERGE_PASSES = 4
"""Passes over the links between identities when folding founded ones (each merge can make
another one qualify; the passes stop early when one merges nothing)."""
SETTLE_PASSES = 3
"""Passes holding faces placed in a run to the joining rule in their final identity."""
SPLIT_MAX_FACES = 2_000
"""Largest identity the splitting pass examines (its cost grows with the square of the size)."""


@dataclass(slots=True)
class ClusterRun:
    """A clustering run's working state: each face's identity (before and during the run),
    what the run placed, and per identity its size and the sum of its faces' vectors."""

    vecs: np.ndarray
    """The run's faces, float32 ``(n, dim)``; ``row`` maps a face id to its row."""
    row: dict[int, int]
    current: dict[int, int]
    sums: dict[int, np.ndarray]
    sizes: dict[int, int] = field(init=False)
    decided: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sizes = defaultdict(int)
        for identity in self.current.values():
            self.sizes[identity] += 1

    def placed_members(self) -> dict[int, list[int]]:
        """Identity -> the faces this run placed in it."""
        members: dict[int, list[int]] = defaultdict(list)
        for face, identity in self.decided.items():
            members[identity].append(face)
        return members

    def vector(self, face: int) -> np.ndarray:
        return self.vecs[self.row[face]]  # type: ignore[no-any-return]

    def place(self, face: int, identity: int) -> None:
        self.current[face] = self.decided[face] = identity
        self.sizes[identity] += 1
        if identity in self.sums:
            self.sums[identity] += self.vector(face)
        else:
            self.sums[identity] = self.vector(face).astype(np.float64)

    def unplace(self, face: int) -> None:
        identity = self.current.pop(face)
        del self.decided[face]
        self.sizes[identity] -= 1
        self.sums[identity] = self.sums[identity] - self.vector(face)


def settle(
    run: ClusterRun,
    order: Sequence[int],
    neighbours: Neighbours,
    join_min_votes: int,
    place_again: Callable[[int], None],
) -> None:
    """Hold every face placed in the run to the joining rule in its final identity.

    A face that joined an identity early, when it held one or two faces, may end up in a
    larger one with a single neighbour in it (say a look-alike's photo that joined when the
    identity was young). Such a face needs ``min(join_min_votes, ceil((n - 1) / 2))``
    neighbours among the other ``n - 1`` members like any face joining now; one that has
    fewer leaves and is placed again by the same rules (densest first). A few passes, as one
    face leaving can leave another short.
    """
    current = run.current
    for _ in range(SETTLE_PASSES):
        loose = [
            f
            for f in order
            if f in run.decided
            and sum(1 for other, _ in neighbours[f] if current.get(other) == current[f])
            < votes_needed(join_min_votes, run.sizes[current[f]] - 1)
        ]
        if not loose:
            return
        for f in loose:
            run.unplace(f)
        for f in loose:
            place_again(f)


def merge_founded(
    run: ClusterRun,
    founded: list[int],
    neighbours: Neighbours,
    excluded: Mapping[int, frozenset[int]],
    pair: float,
) -> int:
    """Fold identities founded in this run into the identity they continue.

    Faces are placed densest first, so one person's photos can found two
    identities before anything links them (say, frontal and profile photos).
    A founded identity ``A`` of ``n`` faces joins an identity ``B`` of ``m``
    faces when a neighbour link joins them and their centroids' cosine
    similarity is at least ``s / sqrt((s + (1 - s) / n) (s + (1 - s) / m))``:
    the similarity two such centroids would have if every pair of faces,
    within and across, had similarity ``s``. For ``n = 1`` this is the
    joining guard of :func:`faceatlas.identity.clustering.cluster_faces`, so a merge asks no less of a group
    than a single face. Only faces decided in this run move: two identities
    that existed before the run never merge (a person or a recluster does that).
    Returns the number of merges.
    """
    current, decided, sums, sizes = run.current, run.decided, run.sums, run.sizes
    fresh = set(founded)
    members = run.placed_members()

    def centroid_similarity(a: int, b: int) -> float:
        na, nb = float(np.linalg.norm(sums[a])), float(np.linalg.norm(sums[b]))
        if na <= 0 or nb <= 0:
            return -1.0
        return float(sums[a] @ sums[b]) / (na * nb)

    links: set[tuple[int, int]] = set()
    for f, identity in decided.items():
        if identity not in fresh:
            continue
        for other, _ in neighbours.get(f, ()):
            target = current.get(other)
            if target is not None and target != identity:
                links.add((identity, target))
    root: dict[int, int] = {}

    def find(i: int) -> int:
        while root.get(i, i) != i:
            i = root[i]
        return i

    merges = 0
    for _ in range(MERGE_PASSES):
        pairs = {(find(a), find(b)) for a, b in links}
        candidates = sorted(
            ((centroid_similarity(a, b), a, b) for a, b in pairs if a != b),
            key=lambda c: (-c[0], c[1], c[2]),
        )
        before = merges
        for _, a, b in candidates:
            a, b = find(a), find(b)
            if a == b or centroid_similarity(a, b) < group_need(pair, sizes[a], sizes[b]):
                continue
            # The smaller fresh identity moves; an identity from before the run never does.
            source, target = (a, b) if b not in fresh or sizes[b] >= sizes[a] else (b, a)
            if source not in fresh:
                continue
            if any(target in excluded.get(f, frozenset()) for f in members[source]):
                continue
            for f in members[source]:
                current[f] = decided[f] = target
            members[target].extend(members.pop(source))
            sums[target] = sums[target] + sums.pop(source)
            sizes[target] += sizes[source]
            sizes[source] = 0
            root[source] = target
            merges += 1
        if merges == before:
            break
    return merges


def split_mixed(
    run: ClusterRun,
    min_faces: int,
    min_similarity: float,
    new_identity: Callable[[], int],
    founded: list[int],
) -> int:
    """Split identities that hold two people, each seen several times.

    Faces join one at a time, so two look-alike people can end up in one identity through
    a few close pairs (one person's photo within ``min_similarity`` of two of the other's)
    although most of their faces are not neighbours. For an identity whose faces were all
    placed in this run (so none was placed earlier, by a person or by a previous run),
    average-linkage clustering of its faces gives its top two groups. When both could
    found an identity (``min_faces`` faces or more) and the mean similarity between them
    is below ``min_similarity``, so that on average a face of one is not a neighbour of a
    face of the other, the smaller group becomes an identity of its own, and both groups
    are examined again. No new parameter: the test is the neighbour rule applied to groups.
    Identities larger than :data:`SPLIT_MAX_FACES` are left as they are. Returns the
    number of splits.
    """
    from scipy.cluster.hierarchy import linkage, to_tree

    queue = [
        (identity, faces)
        for identity, faces in sorted(run.placed_members().items())
        if len(faces) == run.sizes[identity]
    ]
    splits = 0
    while queue:
        identity, faces = queue.pop()
        if not 2 * min_faces <= len(faces) <= SPLIT_MAX_FACES:
            continue
        group = np.stack([run.vector(f) for f in faces]).astype(np.float64)
        sims = group @ group.T
        distances = np.clip(1.0 - sims[np.triu_indices(len(faces), 1)], 0.0, 2.0)
        top = to_tree(linkage(distances, method="average"))
        a, b = top.get_left().pre_order(), top.get_right().pre_order()
        if min(len(a), len(b)) < min_faces:
            continue
        if float(sims[np.ix_(a, b)].mean()) >= min_similarity:
            continue
        stay, leave = (a, b) if len(a) >= len(b) else (b, a)
        target = new_identity()
        founded.append(target)
        for k in leave:
            run.unplace(faces[k])
            run.place(faces[k], target)
        splits += 1
        queue.append((identity, [faces[k] for k in stay]))
        queue.append((target, [faces[k] for k in leave]))
    return splits


def group_need(s: float, n: int, m: int = 1) -> float:
    """Cosine similarity between the centroids of a group of ``n`` faces and one of ``m`` when
    every pair of faces, within and across, has similarity ``s``. With ``m = 1`` it is what a
    face needs to the centroid of an identity of ``n`` faces to join it."""
    a = s + (1.0 - s) / max(n, 1)
    b = s + (1.0 - s) / max(m, 1)
    return s / float(np.sqrt(max(a * b, 1e-12)))


def votes_needed(join_votes: int, members: int) -> int:
    """Neighbours a face needs among ``members`` faces of an identity to join or stay in it."""
    return min(join_votes, (members + 1) // 2)
