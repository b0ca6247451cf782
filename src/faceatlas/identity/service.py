"""Identities of one atlas: clustering runs and reads, over its catalog and vector index."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import count
from urllib.parse import urlsplit

import numpy as np

from faceatlas.errors import NotFoundError
from faceatlas.identity.clustering import ClusterOutcome, ClusterParams, ClusterState, cluster_faces
from faceatlas.identity.evidence import name_candidates
from faceatlas.identity.records import (
    ClusterReport,
    IdentityDetail,
    IdentityPhoto,
    IdentitySummary,
)
from faceatlas.index.protocol import VectorIndex
from faceatlas.store.catalog import Catalog
from faceatlas.store.identities import IdentityRepository
from faceatlas.store.records import FaceRecord

__all__ = ["CLUSTER_ACTOR", "Identities", "photos_of"]

CLUSTER_ACTOR = "clustering"
"""``created_by``/``assigned_by`` of what the clusterer, not a person, decided."""


class Identities:
    """Clustering, curation, reads and identity-level search for one atlas.

    Writers (clustering, curation) must run under the atlas writer lock; the
    :class:`~faceatlas.atlas.Atlas` facade takes it.
    """

    def __init__(
        self, catalog: Catalog, index: VectorIndex, model_id: str, params: ClusterParams
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.model_id = model_id
        self.params = params

    # --- clustering ---------------------------------------------------------------

    def cluster_pending(self) -> ClusterReport:
        """Cluster faces that have no identity yet (new ones and those left waiting)."""
        started = time.perf_counter()
        with IdentityRepository.read(self.catalog.db) as rows:
            pending = rows.pending_faces(self.model_id)
            assigned, manual = rows.assignments()
            excluded = rows.exclusions()
        state = ClusterState(assigned, frozenset(manual), excluded, self._sums(assigned))
        ids, vectors = self._vectors(pending)
        outcome = cluster_faces(ids, vectors, self.index, state, self.params, _temp_ids())
        with IdentityRepository.write(self.catalog.db) as rows:
            created = {tmp: rows.create_identity(CLUSTER_ACTOR) for tmp in outcome.founded}
            placements = {f: created.get(i, i) for f, i in outcome.assigned.items()}
            rows.assign(placements, manual=False, actor=CLUSTER_ACTOR)
            rows.delete_empty_identities()
        return self._report("incremental", len(ids), outcome, started)

    def recluster(self) -> ClusterReport:
        """Rebuild every automatic placement from scratch; manual decisions hold.

        Identities keep their ids where most of their faces stay together.
        """
        started = time.perf_counter()
        with IdentityRepository.read(self.catalog.db) as rows:
            everything, manual = rows.assignments()
            excluded = rows.exclusions()
        pinned = {f: everything[f] for f in manual}
        previous = {f: i for f, i in everything.items() if f not in manual}
        ids: list[int] = []
        batches: list[np.ndarray] = []
        for face_ids, vectors, _ in self.catalog.iter_embeddings(self.model_id):
            keep = [k for k, f in enumerate(face_ids.tolist()) if f not in manual]
            ids.extend(int(face_ids[k]) for k in keep)
            batches.append(vectors[keep])
        dim = self.index.dim
        vectors = np.concatenate(batches) if batches else np.zeros((0, dim), np.float32)
        state = ClusterState(pinned, frozenset(manual), excluded, self._sums(pinned))
        outcome = cluster_faces(ids, vectors, self.index, state, self.params, _temp_ids())
        reuse = _reuse_ids(outcome, previous, set(pinned.values()))
        with IdentityRepository.write(self.catalog.db) as rows:
            rows.clear_automatic()
            created = {
                tmp: reuse[tmp] if tmp in reuse else rows.create_identity(CLUSTER_ACTOR)
                for tmp in outcome.founded
            }
            placements = {f: created.get(i, i) for f, i in outcome.assigned.items()}
            rows.assign(placements, manual=False, actor=CLUSTER_ACTOR)
            rows.delete_empty_identities()
        return self._report("recluster", len(ids), outcome, started)

    def _sums(self, assigned: dict[int, int]) -> dict[int, np.ndarray]:
        sums: dict[int, np.ndarray] = {}
        vectors = self.catalog.vectors_for_faces(self.model_id, sorted(assigned))
        for f, v in vectors.items():
            identity = assigned[f]
            if identity in sums:
                sums[identity] += v
            else:
                sums[identity] = v.astype(np.float64)
        return sums

    def _vectors(self, face_ids: Sequence[int]) -> tuple[list[int], np.ndarray]:
        found = self.catalog.vectors_for_faces(self.model_id, face_ids)
        ids = [f for f in face_ids if f in found]
        if not ids:
            return [], np.zeros((0, self.index.dim), np.float32)
        return ids, np.stack([found[f] for f in ids]).astype(np.float32)

    def _report(
        self, mode: str, considered: int, outcome: ClusterOutcome, started: float
    ) -> ClusterReport:
        with IdentityRepository.read(self.catalog.db) as rows:
            total = rows.count_identities()
        return ClusterReport(
            mode=mode,
            faces_considered=considered,
            assigned=len(outcome.assigned),
            founded=len(outcome.founded),
            core_faces=outcome.core_faces,
            border_faces=outcome.border_faces,
            unassigned=len(outcome.unassigned),
            identities=total,
            elapsed_s=time.perf_counter() - started,
        )

    # --- reads ----------------------------------------------------------------------

    def summaries(
        self, *, min_faces: int = 1, limit: int = 100, offset: int = 0
    ) -> list[IdentitySummary]:
        with IdentityRepository.read(self.catalog.db) as rows:
            return rows.summaries(min_faces=min_faces, limit=limit, offset=offset)

    def summary(self, identity_id: int) -> IdentitySummary:
        with IdentityRepository.read(self.catalog.db) as rows:
            found = rows.summaries([identity_id])
        if not found:
            raise NotFoundError(f"identity {identity_id} does not exist")
        return found[0]

    def detail(self, identity_id: int) -> IdentityDetail:
        summary = self.summary(identity_id)
        with IdentityRepository.read(self.catalog.db) as rows:
            face_ids = rows.members([identity_id])[identity_id]
            manual = rows.manual_among(face_ids)
            log = rows.decisions(identity_id)
        records = self.catalog.faces(face_ids)
        faces = [records[f] for f in face_ids if f in records]
        photos, sightings, domains = photos_of(faces, manual)
        return IdentityDetail(
            summary=summary,
            photos=photos,
            sightings=sightings,
            domains=domains,
            name_candidates=tuple(name_candidates(faces)),
            decisions=tuple(log),
        )

    def identity_of(self, face_id: int) -> int | None:
        with IdentityRepository.read(self.catalog.db) as rows:
            return rows.identities_of([face_id]).get(face_id)


def photos_of(
    faces: Sequence[FaceRecord], manual: set[int] | frozenset[int] = frozenset()
) -> tuple[tuple[IdentityPhoto, ...], int, tuple[str, ...]]:
    """``(photos, distinct sightings, distinct source domains)`` of some faces."""
    photos: list[IdentityPhoto] = []
    sighting_ids: set[int] = set()
    domains: Counter[str] = Counter()
    for face in faces:
        for s in face.sightings:
            if s.id in sighting_ids:
                continue
            sighting_ids.add(s.id)
            for where in (s.page_url, s.locator):
                host = urlsplit(where).hostname if "://" in where else None
                if host:
                    domains[host.lower().removeprefix("www.")] += 1
                    break
        photos.append(
            IdentityPhoto(
                face_id=face.id,
                image_id=face.image.id,
                manual=face.id in manual,
                locators=tuple(dict.fromkeys(s.locator for s in face.sightings)),
                pages=tuple(dict.fromkeys(s.page_url for s in face.sightings if s.page_url)),
            )
        )
    ordered = tuple(sorted(domains, key=lambda d: (-domains[d], d)))
    return tuple(photos), len(sighting_ids), ordered


def _temp_ids() -> Callable[[], int]:
    """Temporary (negative) ids for identities a run founds, replaced when it is saved."""
    counter = count(-1, -1)
    return lambda: next(counter)


def _reuse_ids(
    outcome: ClusterOutcome, previous: dict[int, int], taken: set[int]
) -> dict[int, int]:
    """Map founded (temporary) identities to the old automatic ids they mostly continue."""
    overlap: Counter[tuple[int, int]] = Counter()
    for f, tmp in outcome.assigned.items():
        old = previous.get(f)
        if tmp < 0 and old is not None and old not in taken:
            overlap[(tmp, old)] += 1
    reuse: dict[int, int] = {}
    used: set[int] = set()
    for (tmp, old), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if tmp not in reuse and old not in used:
            reuse[tmp] = old
            used.add(old)
    return reuse
