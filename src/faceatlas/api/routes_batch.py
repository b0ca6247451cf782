"""Batch search (a background job with progress and a combined report) and group-photo
search (every face of one photo, each with its own candidates)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from faceatlas.api.deps import Investigator, ServiceDep
from faceatlas.api.downloads import download, file_route
from faceatlas.api.routes_search import search_out
from faceatlas.api.schemas import BoxOut, QualityOut
from faceatlas.api.schemas_batch import (
    BatchesOut,
    BatchOut,
    BatchReportOut,
    GroupFaceOut,
    GroupOut,
)
from faceatlas.api.search_form import SearchForm, checked
from faceatlas.http.batch_uploads import read_batch
from faceatlas.http.uploads import read_upload
from faceatlas.services.batch import BatchDesk
from faceatlas.services.group import GroupDesk, GroupOutcome
from faceatlas.types import RowId

__all__ = ["group_out", "router"]

router = APIRouter(tags=["batch and group search"])


@router.post(
    "/search/batch",
    response_model=BatchOut,
    status_code=202,
    summary="Search with many probe photos (a background job)",
    description=(
        "Several photos (`images`) or one zip archive (`archive`), each searched with its "
        "largest face under one case and purpose: one audited `search` per probe, recorded into "
        "the case. Bounded by `batch_max_probes` and `batch_max_bytes`; the batch counts once "
        "against the rate limit. Poll `GET /search/batches/{id}`, then fetch the report. "
        "Results are investigative leads, not identifications."
    ),
)
async def batch_search(
    service: ServiceDep,
    user: Investigator,
    form: SearchForm,
    images: Annotated[list[UploadFile] | None, File(description="The probe photos.")] = None,
    archive: Annotated[UploadFile | None, File(description="A zip of probe photos.")] = None,
) -> BatchOut:
    request = checked(service, form)
    probes = await read_batch(images or [], archive, service.settings)
    batch = await run_in_threadpool(BatchDesk(service).submit, user, probes, request)
    return BatchOut.of(batch)


@router.get("/search/batches", response_model=BatchesOut, summary="Your recent batch searches")
def my_batches(service: ServiceDep, user: Investigator) -> BatchesOut:
    return BatchesOut(batches=[BatchOut.of(b) for b in BatchDesk(service).mine(user)])


@router.get(
    "/search/batches/{batch_id}", response_model=BatchOut, summary="A batch search's progress"
)
def batch_status(batch_id: RowId, service: ServiceDep, user: Investigator) -> BatchOut:
    return BatchOut.of(BatchDesk(service).get(user, batch_id))


@router.get(
    "/search/batches/{batch_id}/report",
    response_model=BatchReportOut,
    summary="A finished batch's combined report",
)
def batch_report(batch_id: RowId, service: ServiceDep, user: Investigator) -> BatchReportOut:
    return BatchReportOut(**BatchDesk(service).report(user, batch_id))


@router.get(
    "/search/batches/{batch_id}/report.csv",
    summary="A finished batch's combined report as CSV (one row per candidate)",
    **file_route("text/csv", "The report."),
)
def batch_report_csv(batch_id: RowId, service: ServiceDep, user: Investigator) -> Response:
    text = BatchDesk(service).report_csv(user, batch_id)
    return download(text, "text/csv; charset=utf-8", f"batch-{batch_id}.csv")


@router.get(
    "/search/batches/{batch_id}/case-report.html",
    summary="The HTML report of the batch's case (every search of the case)",
    **file_route("text/html", "The case report."),
)
def batch_case_report(batch_id: RowId, service: ServiceDep, user: Investigator) -> Response:
    return download(BatchDesk(service).case_report_html(user, batch_id), "text/html; charset=utf-8")


def group_out(outcome: GroupOutcome) -> GroupOut:
    return GroupOut(
        probe_sha256=outcome.probe_sha256,
        faces_found=outcome.faces_found,
        faces_searched=sum(1 for f in outcome.faces if f.outcome is not None),
        faces_skipped=outcome.skipped,
        max_faces=outcome.max_faces,
        faces=[
            GroupFaceOut(
                index=f.face.index,
                box=BoxOut.of(f.face.box),
                quality=QualityOut.of(f.face.quality),
                refused=f.refused,
                search=None if f.outcome is None else search_out(f.outcome),
            )
            for f in outcome.faces
        ],
    )


@router.post(
    "/search/group",
    response_model=GroupOut,
    summary="Search with every face of a group photo",
    description=(
        "Each face (the `group_max_faces` largest, numbered largest first) gets its own "
        "candidates and its own audited search under the case; a face too poor to search is "
        "listed with the reasons. Counts once against the rate limit. Results are "
        "investigative leads, not identifications."
    ),
)
async def group_search(
    service: ServiceDep,
    user: Investigator,
    form: SearchForm,
    image: Annotated[UploadFile | None, File(description="The group photo.")] = None,
) -> GroupOut:
    request = checked(service, form)
    data = await read_upload(image, service.settings.max_upload_bytes)
    outcome = await run_in_threadpool(GroupDesk(service).search, user, data, request)
    return group_out(outcome)
