"""The identities of one atlas as one object (``atlas.identities``): clustering and reads
(:class:`Identities`), curation under the writer lock, and search for people."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from faceatlas.errors import InvalidRequestError, NoFaceError
from faceatlas.gallery import Gallery
from faceatlas.identity import curation
from faceatlas.identity.clustering import ClusterParams
from faceatlas.identity.records import (
    ClusterReport,
    IdentityDetail,
    IdentitySearchResult,
    IdentitySummary,
)
from faceatlas.identity.search import search_identities
from faceatlas.identity.service import Identities

__all__ = ["IdentityControls"]


class IdentityControls(Identities):
    """Clustering, curation and identity search over one gallery.

    ``threshold`` gives the search threshold in force and its source (the searcher's).
    """

    def __init__(
        self,
        gallery: Gallery,
        params: ClusterParams,
        threshold: Callable[[], tuple[float, str]],
    ) -> None:
        super().__init__(gallery.catalog, gallery.index, gallery.model_id, params)
        self.gallery = gallery
        self._threshold = threshold

    def cluster_identities(self, *, rebuild: bool = False) -> ClusterReport:
        """Cluster faces without an identity; ``rebuild`` reclusters everything (manual
        decisions hold)."""
        with self.gallery.writer_lock():
            self.gallery.sync_index()
            return self.recluster() if rebuild else self.cluster_pending()

    def list_identities(
        self, *, min_faces: int = 1, limit: int = 100, offset: int = 0
    ) -> list[IdentitySummary]:
        if not 1 <= limit <= 10_000 or offset < 0 or min_faces < 1:
            raise InvalidRequestError("limit must be 1-10000, offset >= 0, min_faces >= 1")
        return self.summaries(min_faces=min_faces, limit=limit, offset=offset)

    def identity(self, identity_id: int) -> IdentityDetail:
        """An identity's photos, sightings, domains, candidate names and curation log."""
        return self.detail(identity_id)

    def merge_identities(self, target: int, others: Sequence[int], *, actor: str) -> int:
        with self.gallery.writer_lock():
            return curation.merge(self.catalog.db, target, others, actor)

    def split_identity(self, identity_id: int, face_ids: Sequence[int], *, actor: str) -> int:
        with self.gallery.writer_lock():
            return curation.split(self.catalog.db, identity_id, face_ids, actor)

    def move_faces(self, face_ids: Sequence[int], target: int | None, *, actor: str) -> int:
        with self.gallery.writer_lock():
            return curation.move(self.catalog.db, face_ids, target, actor)

    def label_identity(self, identity_id: int, label: str | None, *, actor: str) -> None:
        with self.gallery.writer_lock():
            curation.label(self.catalog.db, identity_id, label, actor)

    def reject_faces(self, identity_id: int, face_ids: Sequence[int], *, actor: str) -> None:
        """ "Not this person": the faces leave the identity for good."""
        with self.gallery.writer_lock():
            curation.reject(self.catalog.db, identity_id, face_ids, actor)

    def search_identities(
        self,
        photos: Sequence[bytes],
        *,
        top_k: int | None = None,
        min_similarity: float | None = None,
    ) -> IdentitySearchResult:
        """Search for people with one or more photos of one person (the largest face of each).

        Raises :class:`NoFaceError` when a photo has no face.
        """
        if not photos:
            raise InvalidRequestError("give at least one probe photo")
        k = top_k or self.gallery.settings.top_k
        if not 1 <= k <= 1000:
            raise InvalidRequestError("top_k must be between 1 and 1000")
        vectors = []
        for number, data in enumerate(photos, start=1):
            faces = self.gallery.analyze_probe(data)
            if not faces:
                raise NoFaceError(f"no face found in probe photo {number}")
            vectors.append(faces[0].embedding)
        if min_similarity is None:
            threshold, source = self._threshold()
        else:
            threshold, source = min_similarity, "request"
        return search_identities(
            self,
            np.stack(vectors).astype(np.float32),
            threshold=threshold,
            threshold_source=source,
            top_k=k,
        )
