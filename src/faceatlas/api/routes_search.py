"""Search by photo, faces in a photo, result details and thumbnails."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from faceatlas.api.deps import Investigator, ServiceDep
from faceatlas.api.downloads import download, file_route
from faceatlas.api.schemas import (
    FaceDetailOut,
    FacesOut,
    FpirOut,
    ProbeFaceOut,
    ProbeQualityOut,
    PurposesOut,
    SearchOut,
    hit_out,
    leads_header,
)
from faceatlas.api.search_form import IndexField, SearchForm, checked
from faceatlas.http.uploads import read_upload
from faceatlas.services import SearchOutcome
from faceatlas.types import RowId

__all__ = ["API_PREFIX", "router", "search_out"]

API_PREFIX = "/api/v1"
router = APIRouter(tags=["search"])

ImageField = Annotated[
    UploadFile | None,
    File(description="The probe photo (JPEG, PNG, WebP, ...; content is sniffed)."),
]


def search_out(outcome: SearchOutcome) -> SearchOut:
    r = outcome.result
    return SearchOut(
        **leads_header(outcome.audit),
        probe_sha256=outcome.probe_sha256,
        model_id=r.model_id,
        probe_faces=[ProbeFaceOut.of(f) for f in r.probe_faces],
        selected_face=r.selected,
        threshold=round(r.threshold, 4),
        threshold_source=r.threshold_source,
        fair_scoring=r.fair_scoring,
        gallery_size=r.gallery_size,
        threshold_fpir=FpirOut.of(r.threshold_fpir),
        probe_quality=ProbeQualityOut.of(r.probe_quality),
        hits=[hit_out(h, band, API_PREFIX) for h, band in zip(r.hits, outcome.bands, strict=True)],
    )


@router.get("/search/purposes", response_model=PurposesOut, summary="Allowed search purposes")
def purposes(service: ServiceDep, _user: Investigator) -> PurposesOut:
    return PurposesOut(
        purposes=list(service.settings.search_purposes),
        case_number_pattern=service.settings.case_number_pattern,
    )


@router.post(
    "/faces/detect",
    response_model=FacesOut,
    summary="List the faces in a photo",
    description="Detects faces so a client can let the user pick one. Searches nothing.",
)
async def detect(service: ServiceDep, _user: Investigator, image: ImageField = None) -> FacesOut:
    data = await read_upload(image, service.settings.max_upload_bytes)
    faces = await run_in_threadpool(service.detect, data)
    return FacesOut(faces=[ProbeFaceOut.of(f) for f in faces])


@router.post(
    "/search",
    response_model=SearchOut,
    summary="Search by photo",
    description=(
        "Searches the atlas with one face of the photo (the largest unless `face` is given). "
        "Refused without a case number and an allowed purpose (`case_required`). Every search "
        "is audited and counts against the caller's rate limit. Results are investigative "
        "leads, not identifications."
    ),
)
async def search(
    service: ServiceDep,
    user: Investigator,
    form: SearchForm,
    image: ImageField = None,
    face: IndexField = None,
) -> SearchOut:
    request = replace(checked(service, form), face=face)
    data = await read_upload(image, service.settings.max_upload_bytes)
    outcome = await run_in_threadpool(service.search, user, data, request)
    return search_out(outcome)


@router.get(
    "/faces/{face_id}",
    response_model=FaceDetailOut,
    summary="A result's details: image and every sighting",
    description="Investigators may open faces shown to them by their own searches (24 h).",
)
def face_detail(face_id: RowId, service: ServiceDep, user: Investigator) -> FaceDetailOut:
    return FaceDetailOut.of(service.face(user, face_id), API_PREFIX)


@router.get(
    "/faces/{face_id}/thumbnail",
    summary="Thumbnail of a stored face (JPEG)",
    **file_route("image/jpeg", "JPEG thumbnail."),
)
def thumbnail(face_id: RowId, service: ServiceDep, user: Investigator) -> Response:
    jpeg = service.thumbnail(user, face_id)
    return download(jpeg, "image/jpeg", headers={"Cache-Control": "private, max-age=600"})
