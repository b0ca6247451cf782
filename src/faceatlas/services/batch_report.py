"""The combined report of a batch search: one item per probe (its search, or why it failed),
as JSON and as CSV (one row per candidate; a probe without candidates gets one row)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any, ClassVar

from faceatlas.search import SearchResult
from faceatlas.search.bands import similarity_band
from faceatlas.services.search import LEADS_NOTICE
from faceatlas.store import FaceRecord
from faceatlas.types import JsonRecord, record

__all__ = [
    "CSV_COLUMNS",
    "BatchHit",
    "BatchItem",
    "BatchReport",
    "item_of",
    "report_csv",
    "stored_form",
    "with_places",
]

CSV_COLUMNS = (
    "item",
    "name",
    "sha256",
    "status",
    "error_code",
    "error",
    "search_id",
    "faces_in_probe",
    "probe_quality",
    "threshold",
    "rank",
    "face_id",
    "similarity",
    "score",
    "band",
    "estimated_fpir",
    "found_at",
)


@record
class BatchHit(JsonRecord):
    rank: int
    face_id: int
    similarity: float
    score: float | None
    band: str
    estimated_fpir: float | None
    found_at: tuple[str, ...]
    """Where the face's image was found: page URLs, else image locators."""

    DIGITS: ClassVar[Mapping[str, int]] = {"similarity": 4, "score": 4}


@record
class BatchItem(JsonRecord):
    """One probe of the batch: ``searched`` with its audit entry (``search_id``) and hits,
    or ``failed`` with the error's code and message."""

    item: int
    name: str
    sha256: str | None
    status: str
    error_code: str | None = None
    error: str | None = None
    search_id: int | None = None
    faces_in_probe: int = 0
    probe_quality: str | None = None
    threshold: float | None = None
    hits: tuple[BatchHit, ...] = ()

    DIGITS: ClassVar[Mapping[str, int]] = {"threshold": 4}


@record
class BatchReport(JsonRecord):
    ref: str
    """The batch's reference, in each of its searches' audit entries (``details.batch``)."""
    case_number: str
    case_id: int | None
    purpose: str
    searched_by: str
    started_at: str
    finished_at: str
    total: int
    searched: int
    failed: int
    items: tuple[BatchItem, ...]
    notice: str = LEADS_NOTICE


def item_of(index: int, name: str, sha256: str, search_id: int, result: SearchResult) -> BatchItem:
    """A searched probe's item: its audit entry, gate verdict and candidates with bands."""
    hits = tuple(
        BatchHit(
            rank=h.rank,
            face_id=h.face_id,
            similarity=h.similarity,
            score=h.score,
            band=similarity_band(h.decision_score, result.threshold)[0],
            estimated_fpir=None if h.estimated_fpir is None else h.estimated_fpir.fpir,
            found_at=tuple(s.page_url or s.locator for s in h.sightings),
        )
        for h in result.hits
    )
    return BatchItem(
        item=index,
        name=name,
        sha256=sha256,
        status="searched",
        search_id=search_id,
        faces_in_probe=len(result.probe_faces),
        probe_quality=result.probe_quality.verdict.value,
        threshold=result.threshold,
        hits=hits,
    )


def _found_at(face: FaceRecord) -> list[str]:
    return [s.page_url or s.locator for s in face.sightings]


def stored_form(report: BatchReport) -> dict[str, Any]:
    """The report as a batch job keeps it: without where each face was found, which
    :func:`with_places` reads from the catalog again when the report is read."""
    data = report.as_dict()
    for item in data["items"]:
        for hit in item["hits"]:
            hit["found_at"] = []
    return data


def with_places(report: Mapping[str, Any], faces: Mapping[int, FaceRecord]) -> dict[str, Any]:
    """A stored report as read now: each candidate with where its face was found, and
    candidates whose face has been erased since (opt-out, erasure) left out."""
    items = []
    for item in report["items"]:
        hits = [
            {**h, "found_at": _found_at(faces[h["face_id"]])}
            for h in item["hits"]
            if h["face_id"] in faces
        ]
        items.append({**item, "hits": hits})
    return {**report, "items": items}


def _cell(value: object) -> object:
    """A value safe to open in a spreadsheet: text that would start a formula is quoted."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def report_csv(report: Mapping[str, Any]) -> str:
    """A report (its JSON form) as CSV text: one row per candidate of each probe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for item in report["items"]:
        base = {k: item.get(k) for k in CSV_COLUMNS if k in item}
        rows = [{**base, **h, "found_at": " | ".join(h["found_at"])} for h in item["hits"]]
        for row in rows or [base]:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()
