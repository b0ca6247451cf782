"""Incremental, density-based clustering of faces into identities.

In the manner of Immich's person clustering (a DBSCAN-like rule):

* A face's *neighbours* are the stored faces whose cosine similarity to it is
  at least ``min_similarity``, found through the atlas's :class:`VectorIndex`
  (``max_neighbours`` per face): never all-pairs distances.
* A face is a *core* face when it and its neighbours number at least
  ``min_faces``. Only a core face founds an identity, or joins the identity
  that holds most of its neighbours (votes weighted by similarity).
* A face that is not core stays unassigned. Every clustering run revisits the
  unassigned faces: once enough neighbours have arrived it becomes core; when
  ``border_min_votes`` of its neighbours already belong to one identity it joins
  that identity as a border face.
* An identity made in a run that holds two groups of faces which are, on average,
  not neighbours of each other is split in two (``split_mixed``).

Faces are handled densest first (ties by face id), so a person's identity is
founded by a typical face of theirs, and the outcome hardly depends on the
order in which photos arrived. Manual decisions enter as fixed assignments
(pinned faces vote but never move) and exclusions (a face never joins an
identity a person has ruled out for it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from faceatlas.errors import InvalidRequestError
from faceatlas.index.protocol import VectorIndex
from faceatlas.types import Vectors

if TYPE_CHECKING:
    from faceatlas.config import Settings
    from faceatlas.engine.card import ModelCard

__all__ = ["ClusterOutcome", "ClusterParams", "ClusterState", "cluster_faces"]

MERGE_PASSES = 4
"""Passes over the links between identities when folding founded ones (each merge can make
another one qualify; the passes stop early when one merges nothing)."""
SETTLE_PASSES = 3
"""Passes holding faces placed in a run to the joining rule in their final identity."""
SPLIT_MAX_FACES = 2_000
"""Largest identity the splitting pass examines (its cost grows with the square of the size)."""
SEARCH_BATCH = 1024
"""Query rows sent to the index at once (bounds memory for large reclusters)."""


@dataclass(frozen=True, slots=True)
class ClusterParams:
    """Clustering parameters (settings ``identity_*``; see ``docs/identities.md``)."""

    min_similarity: float
    """Cosine similarity at which two faces are neighbours (on the engine's scale)."""
    min_faces: int = 2
    """Faces (the face itself included) within ``min_similarity`` that make a core face."""
    max_neighbours: int = 64
    """Neighbours fetched per face from the index."""
    border_min_votes: int = 1
    """Assigned neighbours of one identity a non-core face needs to join it; 0 disables."""
    min_centroid_similarity: float = field(kw_only=True)
    """Guard against chaining: a face joins an identity of ``n`` faces only when its
    cosine similarity to the identity's centroid (normalised mean of its faces) is
    at least ``s / sqrt(s + (1 - s) / n)`` for ``s = min_centroid_similarity``: the
    centroid similarity of a face whose similarity to every member is ``s``. A
    face like one member of a large identity but unlike the person as a whole
    founds its own identity or waits."""
    join_min_votes: int = 2
    """A face joins an identity of ``n`` faces only with at least ``min(join_min_votes,
    ceil(n / 2))`` of its neighbours in it: one close photo of a small identity is not
    enough to join it once it holds three or more."""
    merge_founded: bool = True
    """After placing faces, fold an identity founded in the run into a linked identity
    whose centroid is as close as the guard above asks of a group of its size."""
    split_mixed: bool = False
    """Last, split an identity made wholly in the run whose faces form two groups, each of
    ``min_faces`` or more, with a mean similarity between them below ``min_similarity``."""

    @classmethod
    def from_settings(cls, s: Settings, card: ModelCard) -> ClusterParams:
        """The parameters the ``identity_*`` settings give; thresholds not set there are the
        model card's own."""
        split = s.identity_split_mixed
        return cls(
            min_similarity=_given(s.identity_min_similarity, card, "identity_min_similarity"),
            min_faces=s.identity_min_faces,
            max_neighbours=s.identity_max_neighbours,
            border_min_votes=s.identity_border_min_votes,
            min_centroid_similarity=_given(
                s.identity_min_centroid_similarity, card, "identity_min_centroid_similarity"
            ),
            join_min_votes=s.identity_join_min_votes,
            split_mixed=card.identity_split_mixed if split is None else split,
        )

    def __post_init__(self) -> None:
        if not -1.0 <= self.min_similarity <= 1.0:
            raise InvalidRequestError("min_similarity must be in [-1, 1]")
        if self.min_faces < 1:
            raise InvalidRequestError("min_faces must be at least 1")
        if self.max_neighbours < 1:
            raise InvalidRequestError("max_neighbours must be at least 1")
        if self.border_min_votes < 0:
            raise InvalidRequestError("border_min_votes must be 0 or more")
        if self.join_min_votes < 1:
            raise InvalidRequestError("join_min_votes must be at least 1")


def _given(value: float | None, card: ModelCard, use: str) -> float:
    return card.required(use) if value is None else value


@dataclass(slots=True)
class ClusterState:
    """Assignments known before a run: ``face id -> identity id``.

    ``pinned`` faces were placed by a person and never move. ``excluded`` maps
    a face to the identities it must never join.
    """

    assigned: dict[int, int] = field(default_factory=dict)
    pinned: frozenset[int] = frozenset()
    excluded: Mapping[int, frozenset[int]] = field(default_factory=dict)
    sums: dict[int, np.ndarray] = field(default_factory=dict)
    """Identity id -> sum of its faces' unit embeddings (float64 ``(dim,)``)."""


@dataclass(frozen=True, slots=True)
class ClusterOutcome:
    """What a run decided: new assignments, and which of their identities it founded."""

    assigned: dict[int, int]
    founded: list[int]
    core_faces: int
    border_faces: int
    unassigned: list[int]
    merged: int = 0
    """Identities founded in the run that were folded into another (see ``merge_founded``)."""
    split: int = 0
    """Identities split off a mixed one (see ``split_mixed``)."""


@dataclass(slots=True)
class _Run:
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


def cluster_faces(
    face_ids: Sequence[int],
    vectors: Vectors,
    index: VectorIndex,
    state: ClusterState,
    params: ClusterParams,
    new_identity: Callable[[], int],
) -> ClusterOutcome:
    """Cluster the unassigned ``face_ids`` (vectors: float32 ``(n, dim)``, unit norm).

    ``index`` must hold these faces and every face already assigned in
    ``state``. ``new_identity`` returns a fresh identity id each call. The
    state is not modified; the outcome lists the assignments to make.
    """
    if len(face_ids) != len(vectors):
        raise InvalidRequestError("face ids and vectors differ in length")
    neighbours = _neighbours(face_ids, vectors, index, params)
    run = _Run(
        vecs=np.ascontiguousarray(vectors, dtype=np.float32),
        row={f: i for i, f in enumerate(face_ids)},
        current=dict(state.assigned),
        sums={i: np.array(v, dtype=np.float64) for i, v in state.sums.items()},
    )
    current, sizes = run.current, run.sizes
    founded: list[int] = []
    density = {f: len(neighbours[f]) + 1 for f in face_ids}
    order = sorted((f for f in face_ids if f not in current), key=lambda f: (-density[f], f))
    core = [f for f in order if density[f] >= params.min_faces]
    pair = params.min_centroid_similarity

    def fits(f: int, identity: int) -> bool:
        total = run.sums[identity]
        norm = float(np.linalg.norm(total))
        if norm <= 0:
            return False
        return float(run.vector(f) @ total) / norm >= _group_need(pair, sizes[identity])

    def support(identity: int) -> int:
        return _votes_needed(params.join_min_votes, sizes[identity])

    core_set = set(core)

    def place_by_vote(f: int) -> None:
        """Join the identity the face's placed neighbours vote for; else a core face founds
        one and any other face waits."""
        target = _vote(f, neighbours[f], current, state.excluded, 1, fits, support)
        if target is None and f in core_set:
            target = new_identity()
            founded.append(target)
        if target is not None:
            run.place(f, target)

    for f in core:
        place_by_vote(f)
    border = 0
    if params.border_min_votes > 0:
        for f in order:
            if f in current:
                continue
            target = _vote(
                f, neighbours[f], current, state.excluded, params.border_min_votes, fits, support
            )
            if target is not None:
                run.place(f, target)
                border += 1
    if params.join_min_votes > 1:
        _settle(run, order, neighbours, params, place_by_vote)
    merged = 0
    if params.merge_founded:
        merged = _merge_founded(run, founded, neighbours, state.excluded, pair)
        founded = [i for i in founded if sizes[i] > 0]
    split = 0
    if params.split_mixed:
        split = _split_mixed(run, params, new_identity, founded)
    left = [f for f in order if f not in current]
    return ClusterOutcome(run.decided, founded, len(core), border, left, merged, split)


def _settle(
    run: _Run,
    order: Sequence[int],
    neighbours: Mapping[int, list[tuple[int, float]]],
    params: ClusterParams,
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
            < _votes_needed(params.join_min_votes, run.sizes[current[f]] - 1)
        ]
        if not loose:
            return
        for f in loose:
            run.unplace(f)
        for f in loose:
            place_again(f)


def _merge_founded(
    run: _Run,
    founded: list[int],
    neighbours: Mapping[int, list[tuple[int, float]]],
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
    joining guard of :func:`cluster_faces`, so a merge asks no less of a group
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
            if a == b or centroid_similarity(a, b) < _group_need(pair, sizes[a], sizes[b]):
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


def _split_mixed(
    run: _Run, params: ClusterParams, new_identity: Callable[[], int], founded: list[int]
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
        if not 2 * params.min_faces <= len(faces) <= SPLIT_MAX_FACES:
            continue
        group = np.stack([run.vector(f) for f in faces]).astype(np.float64)
        sims = group @ group.T
        distances = np.clip(1.0 - sims[np.triu_indices(len(faces), 1)], 0.0, 2.0)
        top = to_tree(linkage(distances, method="average"))
        a, b = top.get_left().pre_order(), top.get_right().pre_order()
        if min(len(a), len(b)) < params.min_faces:
            continue
        if float(sims[np.ix_(a, b)].mean()) >= params.min_similarity:
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


def _group_need(s: float, n: int, m: int = 1) -> float:
    """Cosine similarity between the centroids of a group of ``n`` faces and one of ``m`` when
    every pair of faces, within and across, has similarity ``s``. With ``m = 1`` it is what a
    face needs to the centroid of an identity of ``n`` faces to join it."""
    a = s + (1.0 - s) / max(n, 1)
    b = s + (1.0 - s) / max(m, 1)
    return s / float(np.sqrt(max(a * b, 1e-12)))


def _votes_needed(join_votes: int, members: int) -> int:
    """Neighbours a face needs among ``members`` faces of an identity to join or stay in it."""
    return min(join_votes, (members + 1) // 2)


def _neighbours(
    face_ids: Sequence[int], vectors: Vectors, index: VectorIndex, params: ClusterParams
) -> dict[int, list[tuple[int, float]]]:
    out: dict[int, list[tuple[int, float]]] = {}
    vecs = np.ascontiguousarray(vectors, dtype=np.float32)
    for start in range(0, len(face_ids), SEARCH_BATCH):
        rows = index.search(vecs[start : start + SEARCH_BATCH], params.max_neighbours + 1)
        for f, hits in zip(face_ids[start : start + SEARCH_BATCH], rows, strict=True):
            out[f] = [
                (h.id, h.similarity)
                for h in hits
                if h.id != f and h.similarity >= params.min_similarity
            ][: params.max_neighbours]
    return out


def _vote(
    face: int,
    neighbours: list[tuple[int, float]],
    current: Mapping[int, int],
    excluded: Mapping[int, frozenset[int]],
    min_votes: int,
    fits: Callable[[int, int], bool],
    support: Callable[[int], int],
) -> int | None:
    """The identity most of ``face``'s assigned neighbours hold (similarity-weighted)
    among those the face fits."""
    ruled_out = excluded.get(face, frozenset())
    weight: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for other, sim in neighbours:
        identity = current.get(other)
        if identity is None or identity in ruled_out:
            continue
        weight[identity] += sim
        count[identity] += 1
    for identity in sorted(weight, key=lambda i: (-weight[i], i)):
        if count[identity] >= max(min_votes, support(identity)) and fits(face, identity):
            return identity
    return None
