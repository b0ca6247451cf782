"""Response and request models of the REST API: nothing private (embeddings, server
paths, password hashes, token hashes) is ever part of them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Protocol, Self, TypeVar, cast, dataclass_transform

from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from faceatlas.audit import AuditEntry
from faceatlas.engine.probe_gate import ProbeVerdict
from faceatlas.jobs import JobRecord
from faceatlas.search import Hit, ProbeFace
from faceatlas.search.fairness import FpirEstimate
from faceatlas.services import LEADS_NOTICE
from faceatlas.services.records import SightingView, sighting_view
from faceatlas.store import FaceRecord, ImageRecord, SightingRecord
from faceatlas.types import Box, FaceQuality, FaceSpan

__all__ = [
    "AuditEntryOut",
    "AuditSummaryOut",
    "ErrorResponse",
    "FaceDetailOut",
    "FacesOut",
    "HealthOut",
    "JobCreate",
    "JobOut",
    "RecordOut",
    "RecordView",
    "SearchOut",
    "SpanOut",
    "VerifyOut",
    "error_responses",
    "leads_header",
    "record_view",
]


class Record(Protocol):
    """A core record with its JSON view."""

    def as_dict(self) -> dict[str, Any]: ...


class RecordOut(BaseModel):
    """A response model with exactly the fields of a core record's JSON view."""

    @classmethod
    def of(cls, record: Record) -> Self:
        return cls(**record.as_dict())


T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(Field,))
def record_view(cls: type[T]) -> type[T]:
    """Make ``cls``, a subclass of a core record, that record's REST model: a frozen pydantic
    dataclass (validated, in the OpenAPI schema) with the record's fields."""
    return cast("type[T]", pydantic_dataclass(frozen=True)(cls))


class RecordView:
    """Mixin of a REST model that is its core record itself (a pydantic dataclass subclassing
    the record), built from the record's JSON view: the fields are listed once, in the
    record. Only for records with nothing private in them."""

    __slots__ = ()

    @classmethod
    def of(cls, record: Record) -> Self:
        return cls(**record.as_dict())


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `case_required`.")
    message: str = Field(description="Human-readable explanation.")
    status: int = Field(description="HTTP status, repeated for convenience.")


class ErrorResponse(BaseModel):
    """The one error shape of every endpoint."""

    error: ErrorBody


def error_responses(*documented: tuple[int, str]) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` of a router or route: each ``(status, description)`` in the one
    error shape."""
    return {status: {"model": ErrorResponse, "description": text} for status, text in documented}


class BoxOut(RecordOut):
    left: int
    top: int
    right: int
    bottom: int


class QualityOut(RecordOut):
    box_px: int
    detector_score: float
    sharpness: float
    frontal: float


class ProbeFaceOut(BaseModel):
    index: int = Field(description="Pass as `face` to search with this face.")
    box: BoxOut
    quality: QualityOut

    @classmethod
    def of(cls, f: ProbeFace) -> ProbeFaceOut:
        return cls(index=f.index, box=BoxOut.of(f.box), quality=QualityOut.of(f.quality))


class FacesOut(BaseModel):
    faces: list[ProbeFaceOut] = Field(description="Largest first; boxes in upright pixels.")


@record_view
class SightingOut(SightingView):
    """Where the image was seen. ``location`` is the image URL for web sources, the path
    inside the ingested folder for folder sources (never a server path) and the uploaded
    file's name for uploads (``upload_job``: the job that ingested it)."""

    @classmethod
    def of(cls, s: SightingRecord, span: FaceSpan | None = None) -> SightingOut:
        return cls(**asdict(sighting_view(s, span)))


class SpanOut(RecordOut):
    """When a face track of a video is on screen: seconds from the video's first frame."""

    start_s: float = Field(description="First sampled frame the face was seen in.")
    end_s: float = Field(description="Last sampled frame the face was seen in.")
    best_s: float = Field(description="The frame its embedding and thumbnail come from.")
    frames: int = Field(description="Sampled frames it was seen in.")


class ImageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sha256: str
    width: int
    height: int
    format: str
    face_count: int


class FpirOut(BaseModel):
    fpir: float
    fpir_lower: float
    fpir_upper: float
    gallery_size: int

    @classmethod
    def of(cls, e: FpirEstimate | None) -> FpirOut | None:
        if e is None:
            return None
        return cls(**e.as_dict())


class ProbeQualityOut(BaseModel):
    verdict: str = Field(description="`ok`, or `warn` when the leads are weaker than usual.")
    reasons: list[str]

    @classmethod
    def of(cls, v: ProbeVerdict) -> ProbeQualityOut:
        return cls(verdict=v.verdict.value, reasons=list(v.reasons))


class HitOut(BaseModel):
    rank: int
    face_id: int
    similarity: float
    band: str = Field(description="Plain-language band: strong, moderate or weak lead.")
    band_text: str
    estimated_fmr: float | None = Field(
        default=None, description="Estimated false-match rate at this similarity (calibrated)."
    )
    estimated_fmr_upper: float | None = None
    score: float | None = Field(
        default=None,
        description="Fair score (similarity less the stricter region offset of the two faces) "
        "that the threshold applies to; null when fair scoring is off.",
    )
    estimated_fpir: FpirOut | None = Field(
        default=None,
        description="Chance that a search of someone not in the atlas, at its current size, "
        "returns a candidate this strong (false-candidate rate per search), with its interval.",
    )
    box: BoxOut
    quality: QualityOut
    image: ImageOut
    video: SpanOut | None = Field(default=None, description="A video face's time span.")
    sightings: list[SightingOut]
    thumbnail_url: str


def leads_header(audit: AuditEntry) -> dict[str, Any]:
    """What every search response opens with: its audit entry's sequence number, case and
    purpose, and the leads notice."""
    return {
        "search_id": audit.seq,
        "case_number": audit.case_number or "",
        "purpose": audit.purpose or "",
        "notice": LEADS_NOTICE,
    }


class SearchOut(BaseModel):
    search_id: int = Field(description="Sequence number of this search's audit entry.")
    case_number: str
    purpose: str
    notice: str
    probe_sha256: str
    model_id: str
    probe_faces: list[ProbeFaceOut]
    selected_face: int
    threshold: float
    threshold_source: str
    fair_scoring: bool = Field(description="Whether the fair score (docs/fairness.md) is in force.")
    gallery_size: int = Field(description="Faces searched.")
    threshold_fpir: FpirOut | None = Field(
        default=None,
        description="Chance that a search of someone not in the atlas returns any candidate at "
        "this threshold, at the atlas's current size.",
    )
    probe_quality: ProbeQualityOut = Field(
        description="The probe quality gate's verdict on the searched face (docs/fairness.md)."
    )
    hits: list[HitOut]


class StoredFace(Protocol):
    """A stored face as a search hit or a face record holds it."""

    @property
    def box(self) -> Box: ...
    @property
    def quality(self) -> FaceQuality: ...
    @property
    def image(self) -> ImageRecord: ...
    @property
    def sightings(self) -> tuple[SightingRecord, ...]: ...
    @property
    def span(self) -> FaceSpan | None: ...


def stored_face(face_id: int, face: StoredFace, prefix: str) -> dict[str, Any]:
    """The fields a hit and a face's details share: box, quality, image, sightings, a video
    face's span and the thumbnail's URL."""
    return {
        "box": BoxOut.of(face.box),
        "quality": QualityOut.of(face.quality),
        "image": ImageOut.model_validate(face.image),
        "video": None if face.span is None else SpanOut.of(face.span),
        "sightings": [SightingOut.of(s, face.span) for s in face.sightings],
        "thumbnail_url": f"{prefix}/faces/{face_id}/thumbnail",
    }


def hit_out(h: Hit, band: tuple[str, str], prefix: str) -> HitOut:
    return HitOut(
        rank=h.rank,
        face_id=h.face_id,
        similarity=round(h.similarity, 4),
        band=band[0],
        band_text=band[1],
        estimated_fmr=h.estimated_fmr,
        estimated_fmr_upper=h.estimated_fmr_upper,
        score=None if h.score is None else round(h.score, 4),
        estimated_fpir=FpirOut.of(h.estimated_fpir),
        **stored_face(h.face_id, h, prefix),
    )


class FaceDetailOut(BaseModel):
    face_id: int
    box: BoxOut
    quality: QualityOut
    image: ImageOut
    video: SpanOut | None = None
    sightings: list[SightingOut]
    thumbnail_url: str

    @classmethod
    def of(cls, rec: FaceRecord, prefix: str) -> FaceDetailOut:
        return cls(face_id=rec.id, **stored_face(rec.id, rec, prefix))


class JobCreate(BaseModel):
    kind: str = Field(
        description="Source kind: `folder`, `warc` or `urls` (and others registered)."
    )
    target: str = Field(
        default="",
        max_length=2000,
        description="`folder`: a configured folder name; `warc`, `urls`: `NAME/FILE` from the "
        "listing in `GET /jobs` (`targets`). Never a path.",
    )
    urls: list[str] | None = Field(
        default=None,
        max_length=10_000,
        description="Only for `urls`: the image URLs themselves (each optionally followed by a "
        "space and its page URL), instead of a target.",
    )


@record_view
class JobOut(JobRecord, RecordView):
    status: Annotated[str, Field(description="queued, running, finished, failed or interrupted.")]


class JobsOut(BaseModel):
    jobs: list[JobOut]
    kinds: list[str]
    folders: list[str]
    targets: dict[str, list[str]] = Field(description="What each kind may name, by kind.")


@record_view
class AuditEntryOut(AuditEntry, RecordView):
    pass


class AuditEntriesOut(BaseModel):
    entries: list[AuditEntryOut]


class SummaryRow(BaseModel):
    key: str | None
    searches: int
    last_at: str | None


class AuditSummaryOut(BaseModel):
    by_user: list[SummaryRow]
    by_case: list[SummaryRow]


class ProblemOut(BaseModel):
    seq: int
    kind: str
    message: str


class VerifyOut(RecordOut):
    ok: bool
    entries: int
    head_seq: int
    problems: list[ProblemOut]


class HealthOut(BaseModel):
    status: str
    version: str
    model_id: str
    indexed_faces: int


class PurposesOut(BaseModel):
    purposes: list[str]
    case_number_pattern: str
