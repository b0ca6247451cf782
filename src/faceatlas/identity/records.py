"""Plain records of the identity layer, shared by every front end.

``Decision``, ``DecisionKind`` and ``IdentitySummary`` are records of the identity tables,
defined in :mod:`faceatlas.store.identity_records` and re-exported here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from faceatlas.store.identity_records import Decision, DecisionKind, IdentitySummary
from faceatlas.types import JsonRecord, record

__all__ = [
    "ClusterReport",
    "Decision",
    "DecisionKind",
    "IdentityDetail",
    "IdentityHit",
    "IdentityPhoto",
    "IdentitySearchResult",
    "IdentitySummary",
    "NameCandidate",
]


@record
class ClusterReport(JsonRecord):
    """What one clustering run did."""

    mode: str
    faces_considered: int
    assigned: int
    founded: int
    core_faces: int
    border_faces: int
    unassigned: int
    identities: int
    elapsed_s: float

    DIGITS: ClassVar[Mapping[str, int]] = {"elapsed_s": 3}


@record
class NameCandidate:
    """A name seen near this identity's photos: a lead to verify, never a fact.

    ``support`` sums one per supporting sighting, divided by the number of
    names that sighting's text holds (a caption naming three people gives
    each a third). ``share`` is this candidate's part of all support.
    """

    name: str
    support: float
    share: float
    sightings: int
    faces: int
    fields: tuple[str, ...]
    pages: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": "unverified candidate from provenance",
            "support": round(self.support, 3),
            "share": round(self.share, 3),
            "sightings": self.sightings,
            "faces": self.faces,
            "fields": list(self.fields),
            "pages": list(self.pages),
        }


@record
class IdentityPhoto(JsonRecord):
    """One photo of an identity: the face, its image and where the image was found."""

    face_id: int
    image_id: int
    manual: bool
    locators: tuple[str, ...]
    pages: tuple[str, ...]


@record
class IdentityDetail:
    summary: IdentitySummary
    photos: tuple[IdentityPhoto, ...]
    sightings: int
    domains: tuple[str, ...]
    name_candidates: tuple[NameCandidate, ...]
    decisions: tuple[Decision, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary.as_dict(),
            "sightings": self.sightings,
            "domains": list(self.domains),
            "photos": [p.as_dict() for p in self.photos],
            "name_candidates": [c.as_dict() for c in self.name_candidates],
            "decisions": [d.as_dict() for d in self.decisions],
        }


@record
class IdentityHit:
    """A person (or a lone face) similar to the probe: a lead, never an identification."""

    rank: int
    identity_id: int | None
    label: str | None
    score: float
    best_face_similarity: float
    best_face_id: int
    photos: tuple[IdentityPhoto, ...]
    sightings: int
    domains: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "identity_id": self.identity_id,
            "label": self.label,
            "score": round(self.score, 4),
            "best_face_similarity": round(self.best_face_similarity, 4),
            "best_face_id": self.best_face_id,
            "faces": len(self.photos),
            "sightings": self.sightings,
            "domains": list(self.domains),
            "photos": [p.as_dict() for p in self.photos],
        }


@record
class IdentitySearchResult:
    model_id: str
    probe_photos: int
    threshold: float
    threshold_source: str
    hits: tuple[IdentityHit, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "probe_photos": self.probe_photos,
            "threshold": round(self.threshold, 4),
            "threshold_source": self.threshold_source,
            "notice": "Investigative leads, not identifications: verify every result.",
            "hits": [h.as_dict() for h in self.hits],
        }
