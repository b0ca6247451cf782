"""Identity-level scoring: rank people, not loose faces.

A probe is one or more photos of one unknown person; its vector is the
normalised mean of their embeddings. Candidates are the identities of the
faces the index returns for that vector (a face without an identity stands
alone). Each candidate's score is the cosine similarity between the probe
vector and the normalised mean of *all* the candidate's face embeddings (its
centroid). Averaging many photos of a person cancels much of what varies
between photos (pose, light, expression), so a person seen often is matched
on what stays the same; a single close-looking photo of someone else no
longer outranks them. Ties break on the best single-face similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from faceatlas.index.protocol import IndexHit
from faceatlas.types import Vector, Vectors, record

__all__ = ["IdentityScore", "probe_vector", "rank_identities"]


@record
class IdentityScore:
    """One candidate: ``identity_id`` is ``None`` for a face with no identity."""

    identity_id: int | None
    score: float
    best_face_similarity: float
    best_face_id: int
    face_ids: tuple[int, ...]


def probe_vector(vectors: Vectors) -> Vector:
    """The normalised mean of a probe's embeddings (float32 ``(m, dim)`` -> ``(dim,)``)."""
    mean = np.asarray(vectors, dtype=np.float32).reshape(-1, vectors.shape[-1]).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    unit: Vector = (mean / norm if norm > 0 else mean).astype(np.float32)
    return unit


def rank_identities(
    probe: Vectors,
    hits: Sequence[IndexHit],
    assigned: Mapping[int, int],
    members: Mapping[int, Sequence[int]],
    vector_of: Callable[[int], Vector],
) -> list[IdentityScore]:
    """Score the identities behind ``hits`` (from a search with :func:`probe_vector`).

    ``assigned``: face id -> identity id; ``members``: identity id -> its face
    ids; ``vector_of``: a face's embedding. Best first.
    """
    query = probe_vector(probe)
    best: dict[int | None, tuple[float, int]] = {}
    singles: list[IndexHit] = []
    for h in hits:
        identity = assigned.get(h.id)
        if identity is None:
            singles.append(h)
        elif identity not in best or h.similarity > best[identity][0]:
            best[identity] = (h.similarity, h.id)
    out: list[IdentityScore] = []
    for identity, (top_sim, top_face) in best.items():
        assert identity is not None
        faces = tuple(members.get(identity, (top_face,)))
        centroid = np.stack([vector_of(f) for f in faces]).mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        score = float(centroid @ query) / norm if norm > 0 else top_sim
        out.append(IdentityScore(identity, score, top_sim, top_face, faces))
    for h in singles:
        out.append(IdentityScore(None, h.similarity, h.similarity, h.id, (h.id,)))
    out.sort(key=lambda s: (-s.score, -s.best_face_similarity, s.best_face_id))
    return out
