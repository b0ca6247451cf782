"""Request and response models of the privacy endpoints: ids, counts, URLs and domains.

Nothing here carries a selfie, a template or an embedding; an opt-out's contact
address is shown to administrators (who send the receipt) and never logged.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from faceatlas.api.schemas import RecordOut, RecordView, record_view
from faceatlas.privacy import (
    PrivacyAction,
)
from faceatlas.types import RowId

__all__ = [
    "DecisionIn",
    "EraseFacesIn",
    "EraseImagesIn",
    "EraseUrlIn",
    "ErasureOut",
    "OptOutOut",
    "OptOutsOut",
    "PrivacyLogOut",
    "ReceiptOut",
    "RetentionOut",
    "TakedownIn",
    "TakedownOut",
    "TakedownsOut",
]

CaseRef = Field(
    default="",
    max_length=200,
    description="Case or ticket reference (logged); same format as search case numbers.",
)


class ErasureOut(RecordOut):
    faces: int
    embeddings: int
    thumbnails: int
    images: int
    sightings: int
    identities: int = Field(description="Identities left with no face, deleted with any label.")
    index_vectors: int


class ReceiptOut(RecordOut):
    """What the requester is told: counts, never photos or vectors."""

    request_id: int
    completed_at: str
    threshold: float
    threshold_source: str
    templates: int
    erased: ErasureOut
    blocked_from_now_on: bool = True


class OptOutOut(RecordOut):
    id: int
    status: str = Field(description="`pending`, `approved` (erasing), `completed` or `rejected`.")
    channel: str = Field(description="Where the request came from (`web`, `cli`).")
    contact: str = Field(description="Address for the receipt; never written to any log.")
    created_at: str
    decided_at: str | None
    decided_by: str | None
    templates: int = Field(description="Face templates held (the selfies are never stored).")
    receipt: ReceiptOut | None


class OptOutsOut(BaseModel):
    requests: list[OptOutOut]


class DecisionIn(BaseModel):
    note: str | None = Field(
        default=None, max_length=2000, description="Decision note (kept with the request)."
    )


class EraseFacesIn(BaseModel):
    face_ids: list[RowId] = Field(min_length=1, max_length=1000)
    case_ref: str = CaseRef


class EraseImagesIn(BaseModel):
    image_ids: list[RowId] = Field(min_length=1, max_length=1000)
    case_ref: str = CaseRef


class EraseUrlIn(BaseModel):
    url: str = Field(min_length=1, max_length=4000, description="Image URL or page URL, exact.")
    case_ref: str = CaseRef


class TakedownIn(BaseModel):
    domain: str = Field(
        min_length=1, max_length=253, description="Domain name; its subdomains are included."
    )
    case_ref: str = CaseRef


class TakedownOut(RecordOut):
    domain: str
    at: str
    actor: str
    case_ref: str | None


class TakedownsOut(BaseModel):
    takedowns: list[TakedownOut]


class TakedownDoneOut(BaseModel):
    domain: str
    erased: ErasureOut
    refused_from_now_on: bool = True


class RetentionOut(RecordOut):
    thumbnails: int
    probes: int
    audit_entries: int = Field(description="Privacy-log entries pruned (the audit log is kept).")


@record_view
class PrivacyActionOut(PrivacyAction, RecordView):
    pass


class PrivacyLogOut(BaseModel):
    entries: list[PrivacyActionOut]
