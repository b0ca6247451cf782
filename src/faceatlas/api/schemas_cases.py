"""Request and response models of cases, examiner decisions, verification and the
side-by-side comparison: never a probe photo's bytes outside the comparison crops."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from pydantic import BaseModel, ConfigDict, Field

from faceatlas.api.schemas import RecordView, SightingOut, record_view
from faceatlas.services import CaseView, ComparedFace, Comparison
from faceatlas.services.cases import (
    CandidateRecord,
    CaseMember,
    CaseRecord,
    CaseRole,
    CaseSearch,
    Conclusion,
    DecisionView,
    Finding,
    Submission,
    VerificationRecord,
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


@record_view
class CaseOut(CaseRecord, RecordView):
    pass


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


@record_view
class MemberOut(CaseMember, RecordView):
    pass


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


@record_view
class SearchOut(CaseSearch, RecordView):
    pass


@record_view
class CandidateOut(CandidateRecord, RecordView):
    pass


@record_view
class VerificationOut(VerificationRecord, RecordView):
    pass


@record_view
class DecisionOut(DecisionView, RecordView):
    """A decision as the caller may see it: while ``sealed``, its conclusion, form, reason
    and verifications are withheld (blind verification)."""

    verifications: tuple[VerificationOut, ...]


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


@record_view
class CaseDetailOut(CaseOut):
    members: list[MemberOut]
    probes: list[ProbeOut]
    searches: list[SearchOut]
    candidates: list[CandidateOut]
    decisions: list[DecisionOut]

    @classmethod
    def of_view(cls, view: CaseView) -> CaseDetailOut:
        return cls(
            **view.case.as_dict(),
            members=[MemberOut.of(m) for m in view.members],
            probes=[ProbeOut.model_validate(p) for p in view.probes],
            searches=[SearchOut.of(s) for s in view.searches],
            candidates=[CandidateOut.of(c) for c in view.candidates],
            decisions=[DecisionOut.of(d) for d in view.decisions],
        )


@record_view
class VerificationTaskOut(VerificationTask, RecordView):
    """What a verifier compares: never the first examiner's conclusion."""

    candidate: CandidateOut


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
            candidate=CandidateOut.of(c.candidate),
            search=SearchOut.of(c.search),
            probe_sha256=c.probe_sha256,
            probe=ComparedFaceOut.of(c.probe),
            face=ComparedFaceOut.of(c.face),
            sightings=[SightingOut(**asdict(s)) for s in c.sightings],
        )
