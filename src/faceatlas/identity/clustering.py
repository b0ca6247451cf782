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
from faceatlas.identity.cluster_passes import (
    ClusterRun,
    group_need,
    merge_founded,
    settle,
    split_mixed,
    votes_needed,
)
from faceatlas.index.protocol import VectorIndex
from faceatlas.types import Vectors, record

if TYPE_CHECKING:
    from faceatlas.config import Settings
    from faceatlas.engine.card import ModelCard

__all__ = ["ClusterOutcome", "ClusterParams", "ClusterState", "cluster_faces"]

SEARCH_BATCH = 1024
"""Query rows sent to the index at once (bounds memory for large reclusters)."""


@record
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


@record
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
    run = ClusterRun(
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
        return float(run.vector(f) @ total) / norm >= group_need(pair, sizes[identity])

    def support(identity: int) -> int:
        return votes_needed(params.join_min_votes, sizes[identity])

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
        settle(run, order, neighbours, params.join_min_votes, place_by_vote)
    merged = 0
    if params.merge_founded:
        merged = merge_founded(run, founded, neighbours, state.excluded, pair)
        founded = [i for i in founded if sizes[i] > 0]
    split = 0
    if params.split_mixed:
        split = split_mixed(run, params.min_faces, params.min_similarity, new_identity, founded)
    left = [f for f in order if f not in current]
    return ClusterOutcome(run.decided, founded, len(core), border, left, merged, split)


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
