"""Identity-level search: a probe of one or more photos in, people (as leads) out."""

from __future__ import annotations

import numpy as np

from faceatlas.identity.ranking import probe_vector, rank_identities
from faceatlas.identity.records import IdentityHit, IdentitySearchResult
from faceatlas.identity.service import Identities, photos_of
from faceatlas.store.identities import IdentityRepository
from faceatlas.types import Vectors, record_as

__all__ = ["CANDIDATE_FACES", "search_identities"]

CANDIDATE_FACES = 200
"""Faces fetched from the index per probe; their identities are the candidates."""


def search_identities(
    identities: Identities,
    probe: Vectors,
    *,
    threshold: float,
    threshold_source: str,
    top_k: int,
) -> IdentitySearchResult:
    """Rank the identities near ``probe`` (float32 ``(m, dim)``: m photos of one person).

    Score: see :mod:`faceatlas.identity.ranking`. Only candidates scoring at
    least ``threshold`` are returned, best first, at most ``top_k``.
    """
    query = probe_vector(probe)
    hits = identities.index.search(query[None, :], max(CANDIDATE_FACES, 4 * top_k))[0]
    catalog = identities.catalog
    with IdentityRepository.read(catalog.db) as rows:
        assigned = rows.identities_of([h.id for h in hits])
        members = rows.members(sorted(set(assigned.values())))
        names = rows.labels(sorted(members))
        manual = rows.manual_among(sorted({f for fs in members.values() for f in fs}))
    for identity, member_faces in members.items():
        assigned.update(dict.fromkeys(member_faces, identity))
    wanted = sorted(set(assigned) | {h.id for h in hits})
    vectors = catalog.vectors_for_faces(identities.model_id, wanted)
    live = [h for h in hits if h.id in vectors]  # erased since the index was saved
    members = {i: [f for f in fs if f in vectors] for i, fs in members.items()}
    ranked = rank_identities(
        np.asarray(query[None, :]), live, assigned, members, vectors.__getitem__
    )
    kept = [r for r in ranked if r.score >= threshold][:top_k]
    records = catalog.faces(sorted({f for r in kept for f in r.face_ids}))
    out: list[IdentityHit] = []
    for r in kept:
        faces = [records[f] for f in r.face_ids if f in records]
        photos, sightings, domains = photos_of(faces, manual)
        out.append(
            record_as(
                IdentityHit,
                r,
                rank=len(out) + 1,
                label=None if r.identity_id is None else names.get(r.identity_id),
                photos=photos,
                sightings=sightings,
                domains=domains,
            )
        )
    return IdentitySearchResult(
        model_id=identities.model_id,
        probe_photos=int(np.asarray(probe).reshape(-1, query.shape[0]).shape[0]),
        threshold=threshold,
        threshold_source=threshold_source,
        hits=tuple(out),
    )
