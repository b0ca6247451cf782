"""Response models of batch and group-photo search (nothing private: probe bytes, server
paths and embeddings are never part of them)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from faceatlas.api.schemas import BoxOut, QualityOut, RecordOut, RecordView, SearchOut
from faceatlas.services.batch_report import BatchReport

__all__ = [
    "BatchOut",
    "BatchReportOut",
    "BatchesOut",
    "GroupFaceOut",
    "GroupOut",
]


class BatchOut(RecordOut):
    id: int
    case_number: str
    purpose: str
    created_by: str
    status: str = Field(description="queued, running, finished, failed or interrupted.")
    total: int = Field(description="Probes in the batch.")
    done: int = Field(description="Probes handled so far (searched or failed).")
    failed: int = Field(description="Probes that failed so far (see the report for why).")
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None = Field(description="Why the whole batch failed, if it did.")


class BatchesOut(BaseModel):
    batches: list[BatchOut]


@pydantic_dataclass(frozen=True)
class BatchReportOut(BatchReport, RecordView):
    """A finished batch: one item per probe, ``searched`` (its ``search`` audit entry is
    ``search_id``, its candidates ``hits``) or ``failed`` with a stable ``error_code``."""


class GroupFaceOut(BaseModel):
    index: int = Field(description="The face's number on the photo (largest first, from 0).")
    box: BoxOut
    quality: QualityOut
    refused: str | None = Field(description="Why the face was not searched (probe quality).")
    search: SearchOut | None = Field(description="The face's own audited search.")


class GroupOut(BaseModel):
    probe_sha256: str
    faces_found: int
    faces_searched: int
    faces_skipped: int = Field(description="Smallest faces beyond `group_max_faces`.")
    max_faces: int
    faces: list[GroupFaceOut]
