"""Request and response models of cases, examiner decisions, verification and the
side-by-side comparison: never a probe photo's bytes outside the comparison crops."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from faceatlas.api.schemas import SightingOut
from faceatlas.services import CaseView, ComparedFace, Comparison
from faceatlas.services.cases import (
    CaseRecord,
    CaseRole,
    CaseStatus,
    Conclusion,
    DecisionStatus,
    Finding,
    Submission,
    VerificationTask,
)

__all__ = [
    "CandidateOut",
    "CaseCreate",
    "CaseDetailOut",
    "CaseOut",
    "CasesOut",
    "CloseIn",
    "ComparedFaceOut",
    "ComparisonOut",
    "DecisionIn",
    "DecisionOut",
    "MemberIn",
    "MemberOut",
    "MemberRemove",
    "ProbeOut",
    "SearchOut",
    "VerificationOut",
    "VerificationTaskOut",
]

TEXT = 4000


class _Attrs(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CaseOut(_Attrs):
    id: int
    number: str
    purpose: str
    legal_basis: str
    owner: str
    owner_unit: str
    status: CaseStatus
    retention_until: str
    created_at: str
    closed_at: str | None
    closed_by: str | None

    @classmethod
    def of(cls, case: CaseRecord) -> CaseOut:
        return cls.model_validate(case)


class CasesOut(BaseModel):
    cases: list[CaseOut]


class CaseCreate(BaseModel):
    number: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=200)
    legal_basis: str = Field(min_length=1, max_length=TEXT)
    retention_until: dt.date | None = Field(
        default=None,
        description="Date from which the probe photos may no longer be kept (default: "
        "`retention_probe_days` from today).",
    )


class MemberOut(_Attrs):
    username: str
    role: CaseRole
    added_by: str
    added_at: str


class MemberIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: CaseRole


class MemberRemove(BaseModel):
    username: str = Field(min_length=1, max_length=64)


class CloseIn(BaseModel):
    erase_probes: bool = Field(
        default=False, description="Erase the probe photos now, whatever the retention date."
    )


class ProbeOut(_Attrs):
    id: int
    sha256: str
    uploaded_by: str
    uploaded_at: str
    erased_at: str | None


class SearchOut(_Attrs):
    id: int
    audit_seq: int
    probe_id: int
    searched_by: str
    model_id: str
    threshold: float
    threshold_source: str
    recorded_at: str


class CandidateOut(_Attrs):
    id: int
    search_id: int
    face_id: int
    rank: int
    similarity: float
    score: float | None
    estimated_fmr: float | None
    estimated_fmr_upper: float | None
    estimated_fpir: float | None
    estimated_fpir_upper: float | None


class VerificationOut(_Attrs):
    id: int
    verifier: str
    conclusion: Conclusion
    agrees: bool
    form: dict[str, Any]
    reason: str
    verified_at: str
    content_sha256: str
    audit_seq: int | None


class DecisionOut(_Attrs):
    """A decision as the caller may see it: while ``sealed``, its conclusion, form, reason
    and verifications are withheld (blind verification)."""

    decision_id: int
    candidate_id: int
    examiner: str
    decided_at: str
    status: DecisionStatus
    sealed: bool
    conclusion: Conclusion | None
    form: dict[str, Any] | None
    reason: str | None
    content_sha256: str | None
    audit_seq: int | None
    verifications: list[VerificationOut]
    verified_lead: bool


class DecisionIn(BaseModel):
    conclusion: Conclusion
    features: dict[str, Finding] = Field(
        description="A finding for every FISWG feature: face_shape, hairline, eyebrows, eyes, "
        "nose, ears, mouth, chin, scars_and_marks.",
        max_length=20,
    )
    notes: str = Field(default="", max_length=TEXT)
    reason: str = Field(min_length=1, max_length=TEXT)

    def submission(self) -> Submission:
        features = {k: v.value for k, v in self.features.items()}
        return Submission(self.conclusion, features, self.reason, self.notes)


class CaseDetailOut(CaseOut):
    members: list[MemberOut]
    probes: list[ProbeOut]
    searches: list[SearchOut]
    candidates: list[CandidateOut]
    decisions: list[DecisionOut]

    @classmethod
    def of_view(cls, view: CaseView) -> CaseDetailOut:
        return cls(
            **CaseOut.of(view.case).model_dump(),
            members=[MemberOut.model_validate(m) for m in view.members],
            probes=[ProbeOut.model_validate(p) for p in view.probes],
            searches=[SearchOut.model_validate(s) for s in view.searches],
            candidates=[CandidateOut.model_validate(c) for c in view.candidates],
            decisions=[DecisionOut.model_validate(d) for d in view.decisions],
        )


class VerificationTaskOut(_Attrs):
    """What a verifier compares: never the first examiner's conclusion."""

    case_number: str
    decision_id: int
    examiner: str
    decided_at: str
    candidate: CandidateOut
    probe_sha256: str
    model_id: str
    threshold: float

    @classmethod
    def of(cls, task: VerificationTask) -> VerificationTaskOut:
        return cls.model_validate(task)


class ComparedFaceOut(BaseModel):
    image: str = Field(description="The aligned crop as a `data:image/jpeg;base64,` URI.")
    width: int
    height: int
    landmarks: list[tuple[float, float]] = Field(
        description="The detector's five points in crop pixels (the engine's order; eyes first)."
    )
    quality: dict[str, float]
    cut_from: str = Field(description="`probe`, `image` (the stored image) or `thumbnail`.")

    @classmethod
    def of(cls, face: ComparedFace | None) -> ComparedFaceOut | None:
        if face is None:
            return None
        return cls(
            image=face.data_uri,
            width=face.crop.width,
            height=face.crop.height,
            landmarks=list(face.crop.landmarks),
            quality=face.quality.as_dict(),
            cut_from=face.cut_from,
        )


class ComparisonOut(BaseModel):
    case_number: str
    candidate: CandidateOut
    search: SearchOut
    probe_sha256: str
    probe: ComparedFaceOut | None = Field(description="`null` once the probe photo is erased.")
    face: ComparedFaceOut | None
    sightings: list[SightingOut]

    @classmethod
    def of(cls, c: Comparison) -> ComparisonOut:
        return cls(
            case_number=c.case_number,
            candidate=CandidateOut.model_validate(c.candidate),
            search=SearchOut.model_validate(c.search),
            probe_sha256=c.probe_sha256,
            probe=ComparedFaceOut.of(c.probe),
            face=ComparedFaceOut.of(c.face),
            sightings=[SightingOut(**asdict(s)) for s in c.sightings],
        )
