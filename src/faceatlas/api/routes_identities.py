"""Identities: list, show, curate (merge, split, move, label, "not this person"),
cluster, and identity-level search with one or more photos of one person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from faceatlas.accounts import User
from faceatlas.api.deps import Investigator, ServiceDep, Supervisor
from faceatlas.api.routes_search import API_PREFIX
from faceatlas.api.schemas_identities import (
    ClusterIn,
    ClusterOut,
    CurationOut,
    FacesIn,
    IdentitiesOut,
    IdentityOut,
    IdentitySearchOut,
    IdentitySummaryOut,
    LabelIn,
    MergeIn,
    MoveIn,
)
from faceatlas.api.search_form import SearchForm, checked
from faceatlas.errors import InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.services import (
    MAX_PROBE_PHOTOS,
    IdentityDesk,
    Service,
)
from faceatlas.types import MAX_ROW_ID, RowId

__all__ = ["router"]

router = APIRouter(tags=["identities"])


def get_desk(service: ServiceDep) -> IdentityDesk:
    return IdentityDesk(service)


Desk = Annotated[IdentityDesk, Depends(get_desk)]
ImagesField = Annotated[
    list[UploadFile] | None,
    File(description=f"1-{MAX_PROBE_PHOTOS} photos of one person, each as a field `images`."),
]


async def read_photos(uploads: list[UploadFile] | None, service: Service) -> list[bytes]:
    if not uploads:
        raise InvalidRequestError("attach one or more photos as multipart fields 'images'")
    if len(uploads) > MAX_PROBE_PHOTOS:
        raise InvalidRequestError(f"at most {MAX_PROBE_PHOTOS} photos per identity search")
    return [await read_upload(u, service.settings.max_upload_bytes) for u in uploads]


def _curated(action: str, identity_id: RowId, user: User) -> CurationOut:
    """What a curation action answers: where the faces are now, and who acted."""
    return CurationOut(action=action, identity_id=identity_id, actor=user.username)


@router.get("/identities", response_model=IdentitiesOut, summary="Identities, largest first")
def list_identities(
    desk: Desk,
    user: Investigator,
    min_faces: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> IdentitiesOut:
    """Supervisors and admins see every identity; investigators those their own searches
    showed them (or their curation made) in the last 24 hours."""
    found = desk.summaries(user, min_faces=min_faces, limit=limit + 1, offset=offset)
    return IdentitiesOut(
        identities=[IdentitySummaryOut.of(s, API_PREFIX) for s in found[:limit]],
        min_faces=min_faces,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(found) > limit else None,
    )


@router.post(
    "/identities/search",
    response_model=IdentitySearchOut,
    summary="Search for people with one or more photos of one person",
    description=(
        "Ranks identities using all of each person's faces. Refused without a case number and "
        "an allowed purpose (`case_required`). Audited and rate limited like `POST /search`. "
        "Results are investigative leads, not identifications."
    ),
)
async def search_identities(
    service: ServiceDep,
    desk: Desk,
    user: Investigator,
    form: SearchForm,
    images: ImagesField = None,
) -> IdentitySearchOut:
    request = checked(service, form)
    photos = await read_photos(images, service)
    outcome = await run_in_threadpool(desk.search, user, photos, request)
    return IdentitySearchOut.of(outcome, API_PREFIX)


@router.post(
    "/identities/cluster",
    response_model=ClusterOut,
    summary="Cluster faces into identities (supervisor, admin)",
    description="Clusters faces still without an identity, or with `rebuild` everything from "
    "scratch. Manual decisions hold either way. Audited.",
)
def cluster(body: ClusterIn, desk: Desk, user: Supervisor) -> ClusterOut:
    return ClusterOut.of(desk.cluster(user, rebuild=body.rebuild))


@router.post(
    "/identities/move",
    response_model=CurationOut,
    summary="Move faces into an identity, or into a new one",
)
def move_faces(body: MoveIn, desk: Desk, user: Investigator) -> CurationOut:
    return _curated("move", desk.move(user, body.face_ids, body.target), user)


@router.get(
    "/identities/{identity_id}",
    response_model=IdentityOut,
    summary="An identity: photos, where found, candidate names, curation log",
)
def show_identity(identity_id: RowId, desk: Desk, user: Investigator) -> IdentityOut:
    return IdentityOut.of_view(desk.show(user, identity_id), API_PREFIX)


@router.post(
    "/identities/{identity_id}/merge",
    response_model=CurationOut,
    summary="Merge other identities into this one",
)
def merge(identity_id: RowId, body: MergeIn, desk: Desk, user: Investigator) -> CurationOut:
    return _curated("merge", desk.merge(user, identity_id, body.others), user)


@router.post(
    "/identities/{identity_id}/split",
    response_model=CurationOut,
    summary="Split faces off into a new identity",
)
def split(identity_id: RowId, body: FacesIn, desk: Desk, user: Investigator) -> CurationOut:
    return _curated("split", desk.split(user, identity_id, body.face_ids), user)


@router.post(
    "/identities/{identity_id}/label",
    response_model=CurationOut,
    summary="Label an identity (null clears the label)",
)
def label(identity_id: RowId, body: LabelIn, desk: Desk, user: Investigator) -> CurationOut:
    desk.label(user, identity_id, body.label)
    return _curated("label", identity_id, user)


@router.post(
    "/identities/{identity_id}/reject",
    response_model=CurationOut,
    summary='"Not this person": faces leave the identity for good',
)
def reject(identity_id: RowId, body: FacesIn, desk: Desk, user: Investigator) -> CurationOut:
    desk.reject(user, identity_id, body.face_ids)
    return _curated("reject", identity_id, user)
