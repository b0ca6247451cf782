"""Request and response models of the identity endpoints. Photos carry sightings as the
face endpoints do (folder paths relative to their source, never a server path); candidate
names are marked as unverified candidates drawn from provenance."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from faceatlas.api.schemas import RecordOut, RecordView, SightingOut, leads_header, record_view
from faceatlas.identity import (
    ClusterReport,
    IdentityHit,
    IdentityPhoto,
    IdentitySummary,
    NameCandidate,
)
from faceatlas.services import NAMES_NOTICE, IdentitySearchOutcome, IdentityView
from faceatlas.store import FaceRecord
from faceatlas.types import RowId

__all__ = [
    "CANDIDATE_STATUS",
    "ClusterIn",
    "ClusterOut",
    "CurationOut",
    "FacesIn",
    "IdentitiesOut",
    "IdentityOut",
    "IdentitySearchOut",
    "LabelIn",
    "MergeIn",
    "MoveIn",
]

CANDIDATE_STATUS = "unverified candidate from provenance"
FaceIds = list[RowId]


class IdentitySummaryOut(BaseModel):
    id: int
    label: str | None = Field(description="A name a person gave this identity, if any.")
    labelled_by: str | None
    faces: int
    manual_faces: int = Field(description="Faces placed or confirmed by a person.")
    created_by: str
    created_at: str
    url: str

    @classmethod
    def of(cls, s: IdentitySummary, prefix: str) -> IdentitySummaryOut:
        return cls(**s.as_dict(), url=f"{prefix}/identities/{s.id}")


class IdentitiesOut(BaseModel):
    identities: list[IdentitySummaryOut] = Field(description="Largest first.")
    min_faces: int
    limit: int
    offset: int
    next_offset: int | None = Field(description="Pass as `offset` for the next page.")


class IdentityPhotoOut(BaseModel):
    face_id: int
    image_id: int
    manual: bool = Field(description="Placed or confirmed by a person.")
    thumbnail_url: str
    sightings: list[SightingOut]

    @classmethod
    def of(cls, p: IdentityPhoto, faces: Mapping[int, FaceRecord], prefix: str) -> IdentityPhotoOut:
        rec = faces.get(p.face_id)
        return cls(
            face_id=p.face_id,
            image_id=p.image_id,
            manual=p.manual,
            thumbnail_url=f"{prefix}/faces/{p.face_id}/thumbnail",
            sightings=[] if rec is None else [SightingOut.of(s, rec.span) for s in rec.sightings],
        )


class NameCandidateOut(BaseModel):
    name: str
    status: str = Field(description=f"Always `{CANDIDATE_STATUS}`: never a fact.")
    support: float = Field(description="Supporting sightings, shared among names in one text.")
    share: float
    sightings: int
    faces: int
    fields: list[str] = Field(description="Where the name was seen: alt, caption, title, file.")
    pages: list[str]

    @classmethod
    def of(cls, c: NameCandidate) -> NameCandidateOut:
        data = c.as_dict()
        data["status"] = CANDIDATE_STATUS
        return cls(**data)


class DecisionOut(RecordOut):
    id: int
    kind: str = Field(description="merge, split, move, label or reject.")
    identity_id: int
    other_identity_id: int | None
    face_ids: list[int]
    detail: str | None
    actor: str = Field(description="Who made the decision.")
    at: str


class IdentityOut(IdentitySummaryOut):
    sightings: int = Field(description="Distinct places its photos were found.")
    domains: list[str] = Field(description="Distinct source domains, most sightings first.")
    photos: list[IdentityPhotoOut]
    name_candidates_notice: str
    name_candidates: list[NameCandidateOut]
    curation_log: list[DecisionOut] = Field(description="Manual decisions, with who made them.")

    @classmethod
    def of_view(cls, view: IdentityView, prefix: str) -> IdentityOut:
        d = view.detail
        return cls(
            **IdentitySummaryOut.of(d.summary, prefix).model_dump(),
            sightings=d.sightings,
            domains=list(d.domains),
            photos=[IdentityPhotoOut.of(p, view.faces, prefix) for p in d.photos],
            name_candidates_notice=NAMES_NOTICE,
            name_candidates=[NameCandidateOut.of(c) for c in d.name_candidates],
            curation_log=[DecisionOut.of(x) for x in d.decisions],
        )


class MergeIn(BaseModel):
    others: list[RowId] = Field(
        min_length=1, max_length=100, description="Identities folded into this one."
    )


class FacesIn(BaseModel):
    face_ids: FaceIds = Field(min_length=1, max_length=1000)


class MoveIn(FacesIn):
    target: RowId | None = Field(
        default=None, description="The identity the faces join; none makes a new identity."
    )


class LabelIn(BaseModel):
    label: str | None = Field(max_length=200, description="The name to give; null clears it.")


class CurationOut(BaseModel):
    action: str
    identity_id: int = Field(description="The identity the action leaves the faces in.")
    actor: str


class ClusterIn(BaseModel):
    rebuild: bool = Field(
        default=False,
        description="Recluster everything from scratch (manual decisions hold); otherwise "
        "only faces without an identity.",
    )


@record_view
class ClusterOut(ClusterReport, RecordView):
    pass


class IdentityHitOut(BaseModel):
    rank: int
    identity_id: int | None = Field(description="Null for a lone face in no identity yet.")
    label: str | None
    score: float = Field(description="Identity score (see docs/identities.md).")
    band: str = Field(description="Plain-language band: strong, moderate or weak lead.")
    band_text: str
    best_face_similarity: float
    best_face_id: int
    faces: int
    sightings: int
    domains: list[str]
    photos: list[IdentityPhotoOut]
    url: str | None

    @classmethod
    def of(
        cls,
        h: IdentityHit,
        band: tuple[str, str],
        faces: Mapping[int, FaceRecord],
        prefix: str,
    ) -> IdentityHitOut:
        return cls(
            rank=h.rank,
            identity_id=h.identity_id,
            label=h.label,
            score=round(h.score, 4),
            band=band[0],
            band_text=band[1],
            best_face_similarity=round(h.best_face_similarity, 4),
            best_face_id=h.best_face_id,
            faces=len(h.photos),
            sightings=h.sightings,
            domains=list(h.domains),
            photos=[IdentityPhotoOut.of(p, faces, prefix) for p in h.photos],
            url=None if h.identity_id is None else f"{prefix}/identities/{h.identity_id}",
        )


class IdentitySearchOut(BaseModel):
    search_id: int = Field(description="Sequence number of this search's audit entry.")
    case_number: str
    purpose: str
    notice: str
    probe_sha256s: list[str]
    model_id: str
    probe_photos: int
    threshold: float
    threshold_source: str
    hits: list[IdentityHitOut] = Field(description="People, best first: leads to verify.")

    @classmethod
    def of(cls, outcome: IdentitySearchOutcome, prefix: str) -> IdentitySearchOut:
        r = outcome.result
        return cls(
            **leads_header(outcome.audit),
            probe_sha256s=outcome.probe_sha256s,
            model_id=r.model_id,
            probe_photos=r.probe_photos,
            threshold=round(r.threshold, 4),
            threshold_source=r.threshold_source,
            hits=[
                IdentityHitOut.of(h, band, outcome.faces, prefix)
                for h, band in zip(r.hits, outcome.bands, strict=True)
            ],
        )
