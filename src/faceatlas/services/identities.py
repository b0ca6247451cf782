"""Identities for every front end, over one :class:`Service`.

Identity search is a search: it takes the same path as face search
(:meth:`Service.accountable_search`: case number, purpose, rate limit, one
``search`` audit event). Curation names the acting user, is refused for
identities the user may not open, and is audited; the audit event holds ids
only, never a label's text (the curation log keeps that, and is erased with
the identity). Investigators open only identities their own searches showed
them, or their own curation made, in the last 24 hours; supervisors and
admins open any.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faceatlas.accounts import User
from faceatlas.audit import AuditEntry
from faceatlas.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from faceatlas.identity import ClusterReport, IdentityDetail, IdentitySearchResult, IdentitySummary
from faceatlas.services.search import Leads, SearchRecord, SearchRequest, resolve_top_k
from faceatlas.services.service import Service
from faceatlas.store import FaceRecord
from faceatlas.types import record

__all__ = [
    "MAX_PROBE_PHOTOS",
    "NAMES_NOTICE",
    "IdentityDesk",
    "IdentitySearchOutcome",
    "IdentityView",
]

MAX_PROBE_PHOTOS = 10
"""Photos one identity search may hold (all of one person)."""
MAX_FACES_PER_ACTION = 1000
NAMES_NOTICE = (
    "Candidate names are words found near these photos (alt text, captions, page titles, "
    "file names). They are unverified leads, never an identification."
)


@record
class IdentitySearchOutcome(Leads):
    result: IdentitySearchResult
    audit: AuditEntry
    probe_sha256s: list[str]
    faces: dict[int, FaceRecord]
    """The records of every photo shown, keyed by face id."""

    def scores(self) -> list[float]:
        return [h.score for h in self.result.hits]

    def probes(self) -> dict[str, Any]:
        return {"probe_sha256s": self.probe_sha256s}


@record
class IdentityView:
    detail: IdentityDetail
    faces: dict[int, FaceRecord]


class IdentityDesk:
    """What a front end does with identities, on behalf of a user."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.atlas = service.atlas

    # --- search ------------------------------------------------------------------------

    def search(
        self, user: User, photos: Sequence[bytes], request: SearchRequest
    ) -> IdentitySearchOutcome:
        """An accountable identity search with one or more photos of one person."""
        if len(photos) > MAX_PROBE_PHOTOS:
            raise InvalidRequestError(
                f"an identity search takes at most {MAX_PROBE_PHOTOS} photos of one person"
            )
        settings = self.service.settings

        def run() -> tuple[IdentitySearchResult, SearchRecord]:
            top_k = resolve_top_k(settings, request.top_k)
            result = self.atlas.identities.search_identities(
                photos, top_k=top_k, min_similarity=request.threshold
            )
            parameters = {
                "probe_photos": len(photos),
                "top_k": top_k,
                "threshold": round(result.threshold, 4),
                "threshold_source": result.threshold_source,
                "model_id": result.model_id,
            }
            shown = list(dict.fromkeys(p.face_id for h in result.hits for p in h.photos))
            extra = {
                "kind": "identity",
                "result_identity_ids": [
                    h.identity_id for h in result.hits if h.identity_id is not None
                ],
            }
            return result, SearchRecord(parameters, shown, extra)

        result, entry, hashes = self.service.accountable_search(user, request, photos, run)
        faces = self.atlas.gallery.faces(entry.details["result_face_ids"])
        return IdentitySearchOutcome(result, entry, hashes, faces)

    # --- reads -------------------------------------------------------------------------

    def ensure_may_open(self, user: User, identity_id: int) -> IdentitySummary:
        """The identity's summary; 404 when it does not exist, 403 when ``user`` may not
        open it."""
        summary = self.atlas.identities.summary(identity_id)
        if not self.service.ledger.may_view_identity(user, identity_id):
            raise PermissionDeniedError(
                f"identity {identity_id} was not among the results of one of your searches "
                "in the last 24 hours"
            )
        return summary

    def summaries(
        self, user: User, *, min_faces: int = 1, limit: int = 50, offset: int = 0
    ) -> list[IdentitySummary]:
        """Identities, largest first: every one for supervisors and admins, the ones they
        may open for investigators."""
        viewable = self.service.ledger.viewable_identities(user)
        if viewable is None:
            return self.atlas.identities.list_identities(
                min_faces=min_faces, limit=limit, offset=offset
            )
        if not 1 <= limit <= 10_000 or offset < 0 or min_faces < 1:
            raise InvalidRequestError("limit must be 1-10000, offset >= 0, min_faces >= 1")
        found: list[IdentitySummary] = []
        for identity_id in viewable:
            try:
                summary = self.atlas.identities.summary(identity_id)
            except NotFoundError:
                continue  # merged away or emptied since it was shown
            if summary.faces >= min_faces:
                found.append(summary)
        found.sort(key=lambda s: (-s.faces, s.id))
        return found[offset : offset + limit]

    def show(self, user: User, identity_id: int) -> IdentityView:
        self.ensure_may_open(user, identity_id)
        detail = self.atlas.identities.identity(identity_id)
        return IdentityView(detail, self.atlas.gallery.faces([p.face_id for p in detail.photos]))

    # --- curation ------------------------------------------------------------------------

    def _faces(self, user: User, face_ids: Sequence[int]) -> list[int]:
        chosen = list(dict.fromkeys(face_ids))
        if not chosen:
            raise InvalidRequestError("name at least one face")
        if len(chosen) > MAX_FACES_PER_ACTION:
            raise InvalidRequestError(f"at most {MAX_FACES_PER_ACTION} faces per action")
        for face_id in chosen:
            self.service.ledger.ensure_may_view(user, face_id)
        return chosen

    def merge(self, user: User, target: int, others: Sequence[int]) -> int:
        sources = list(dict.fromkeys(others))
        for identity_id in (target, *sources):
            self.ensure_may_open(user, identity_id)
        merged = self.atlas.identities.merge_identities(target, sources, actor=user.username)
        self.service.record(user, "identities_merged", identity_ids=[merged, *sources])
        return merged

    def split(self, user: User, identity_id: int, face_ids: Sequence[int]) -> int:
        self.ensure_may_open(user, identity_id)
        chosen = self._faces(user, face_ids)
        new_id = self.atlas.identities.split_identity(identity_id, chosen, actor=user.username)
        self.service.ledger.grant_identities(user, [new_id])
        self.service.record(
            user, "identity_split", identity_ids=[identity_id, new_id], face_ids=chosen
        )
        return new_id

    def move(self, user: User, face_ids: Sequence[int], target: int | None) -> int:
        if target is not None:
            self.ensure_may_open(user, target)
        chosen = self._faces(user, face_ids)
        before = {self.atlas.identities.identity_of(f) for f in chosen} - {None, target}
        placed = self.atlas.identities.move_faces(chosen, target, actor=user.username)
        self.service.ledger.grant_identities(user, [placed])
        self.service.record(
            user,
            "identity_faces_moved",
            identity_ids=[placed],
            from_identity_ids=sorted(i for i in before if i is not None),
            face_ids=chosen,
        )
        return placed

    def label(self, user: User, identity_id: int, label: str | None) -> None:
        self.ensure_may_open(user, identity_id)
        self.atlas.identities.label_identity(identity_id, label, actor=user.username)
        self.service.record(
            user, "identity_labelled", identity_ids=[identity_id], cleared=label is None
        )

    def reject(self, user: User, identity_id: int, face_ids: Sequence[int]) -> None:
        self.ensure_may_open(user, identity_id)
        chosen = self._faces(user, face_ids)
        self.atlas.identities.reject_faces(identity_id, chosen, actor=user.username)
        self.service.record(
            user, "identity_faces_rejected", identity_ids=[identity_id], face_ids=chosen
        )

    def cluster(self, user: User, *, rebuild: bool) -> ClusterReport:
        """Cluster waiting faces, or everything again (manual decisions hold). The caller
        checks the role (supervisor or admin)."""
        with self.service.gate.exclusive():
            report = self.atlas.identities.cluster_identities(rebuild=rebuild)
        self.service.record(user, "identities_clustered", **report.as_dict())
        return report
