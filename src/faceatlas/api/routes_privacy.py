"""Privacy administration (admin only): opt-out decisions, erasure, domain takedown,
subject access, retention and the privacy log. Every action is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from faceatlas.api.deps import Admin, ServiceDep
from faceatlas.api.schemas import error_responses
from faceatlas.api.schemas_privacy import (
    DecisionIn,
    EraseFacesIn,
    EraseImagesIn,
    EraseUrlIn,
    ErasureOut,
    OptOutOut,
    OptOutsOut,
    PrivacyActionOut,
    PrivacyLogOut,
    ReceiptOut,
    RetentionOut,
    TakedownDoneOut,
    TakedownIn,
    TakedownOut,
    TakedownsOut,
)
from faceatlas.errors import InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.privacy import MAX_SELFIES, OptOutStatus, normalize_domain
from faceatlas.services import PrivacyDesk
from faceatlas.types import RowId

__all__ = ["router"]

router = APIRouter(
    prefix="/privacy",
    tags=["privacy"],
    responses=error_responses(
        (409, "The opt-out was already decided (`conflict`)"),
        (503, "Another process is writing to the atlas, e.g. an ingest (`atlas_locked`)"),
    ),
)


def get_desk(service: ServiceDep) -> PrivacyDesk:
    return PrivacyDesk(service)


Desk = Annotated[PrivacyDesk, Depends(get_desk)]


@router.get("/optouts", response_model=OptOutsOut, summary="Opt-out requests, oldest first")
def list_optouts(
    desk: Desk, _admin: Admin, status: Annotated[OptOutStatus | None, Query()] = None
) -> OptOutsOut:
    return OptOutsOut(requests=[OptOutOut.of(r) for r in desk.optouts(status)])


@router.get("/optouts/{request_id}", response_model=OptOutOut, summary="One opt-out request")
def show_optout(request_id: RowId, desk: Desk, _admin: Admin) -> OptOutOut:
    return OptOutOut.of(desk.optout(request_id))


@router.post(
    "/optouts/{request_id}/approve",
    response_model=ReceiptOut,
    summary="Approve an opt-out: erase every matching face now and block them from then on",
    description="Returns the receipt (counts, threshold). Approving an interrupted request "
    "resumes it; a completed or rejected one gives `conflict`. Audited with the acting user.",
)
def approve_optout(request_id: RowId, body: DecisionIn, desk: Desk, admin: Admin) -> ReceiptOut:
    return ReceiptOut.of(desk.approve(admin, request_id, body.note))


@router.post(
    "/optouts/{request_id}/reject",
    response_model=OptOutOut,
    summary="Reject a pending opt-out; its templates are deleted",
)
def reject_optout(request_id: RowId, body: DecisionIn, desk: Desk, admin: Admin) -> OptOutOut:
    return OptOutOut.of(desk.reject(admin, request_id, body.note))


@router.post(
    "/erasures/faces",
    response_model=ErasureOut,
    summary="Erase faces by id (rows, vectors, thumbnails; the image when none is left)",
)
def erase_faces(body: EraseFacesIn, desk: Desk, admin: Admin) -> ErasureOut:
    return ErasureOut.of(desk.erase_faces(admin, body.face_ids, body.case_ref))


@router.post(
    "/erasures/images",
    response_model=ErasureOut,
    summary="Erase images by id with all their faces and sightings",
)
def erase_images(body: EraseImagesIn, desk: Desk, admin: Admin) -> ErasureOut:
    return ErasureOut.of(desk.erase_images(admin, body.image_ids, body.case_ref))


@router.post(
    "/erasures/url",
    response_model=ErasureOut,
    summary="Erase what was seen at an image or page URL (images seen elsewhere keep those)",
)
def erase_url(body: EraseUrlIn, desk: Desk, admin: Admin) -> ErasureOut:
    return ErasureOut.of(desk.erase_url(admin, body.url, body.case_ref))


@router.get("/takedowns", response_model=TakedownsOut, summary="Taken-down domains")
def list_takedowns(desk: Desk, _admin: Admin) -> TakedownsOut:
    return TakedownsOut(takedowns=[TakedownOut.of(t) for t in desk.takedowns()])


@router.post(
    "/takedowns",
    response_model=TakedownDoneOut,
    summary="Take a domain down: erase it (subdomains included) and refuse it in every ingest",
    description="While an ingest runs the atlas is busy (`atlas_locked`, 503): the takedown is "
    "then recorded and refused by that ingest from its next batch, which erases what it "
    "stored from the domain when it finishes; post again later to erase what was stored "
    "before.",
)
def takedown(body: TakedownIn, desk: Desk, admin: Admin) -> TakedownDoneOut:
    domain = normalize_domain(body.domain)
    counts = desk.takedown(admin, domain, body.case_ref)
    return TakedownDoneOut(domain=domain, erased=ErasureOut.of(counts))


@router.post(
    "/access",
    response_model=dict[str, Any],
    summary="Subject access export for a verified requester's selfies (JSON)",
    description="Every stored face matching the selfies, with image, thumbnail (unless "
    "`thumbnails=false`) and every sighting and source URL; never an embedding or the selfie. "
    "The administrator verifies the requester out of band and names who verified, and the case.",
)
async def subject_access(
    desk: Desk,
    admin: Admin,
    selfies: Annotated[
        list[UploadFile] | None,
        File(description=f"1-{MAX_SELFIES} photos of the requester, each as a field `selfies`."),
    ] = None,
    requester: Annotated[str, Form(max_length=200)] = "",
    verified_by: Annotated[str, Form(max_length=200)] = "",
    case_ref: Annotated[str, Form(max_length=200)] = "",
    thumbnails: Annotated[bool, Form()] = True,
) -> dict[str, Any]:
    desk.check_access_request(case_ref, requester, verified_by)  # before reading uploads
    if not selfies or len(selfies) > MAX_SELFIES:
        raise InvalidRequestError(f"attach 1-{MAX_SELFIES} selfies as multipart fields 'selfies'")
    limit = desk.service.settings.max_upload_bytes
    data = [await read_upload(u, limit) for u in selfies]
    return await run_in_threadpool(
        lambda: desk.subject_access(
            admin,
            data,
            requester=requester,
            verified_by=verified_by,
            case_ref=case_ref,
            include_thumbnails=thumbnails,
        )
    )


@router.post(
    "/retention",
    response_model=RetentionOut,
    summary="Run retention now: delete expired thumbnails, probes and privacy-log entries",
)
def retention(desk: Desk, admin: Admin) -> RetentionOut:
    return RetentionOut.of(desk.retention(admin))


@router.get(
    "/log",
    response_model=PrivacyLogOut,
    summary="Privacy actions, newest first (identifiers and counts only)",
)
def privacy_log(
    desk: Desk, _admin: Admin, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> PrivacyLogOut:
    return PrivacyLogOut(entries=[PrivacyActionOut.of(e) for e in desk.log(limit)])
