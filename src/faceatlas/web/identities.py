"""Identity pages: the list, one person (photos, where found, candidate names, curation
log and curation forms), and identity search with one or more photos of one person.

They use the same :class:`~faceatlas.services.IdentityDesk` as the REST API, so
the same rules hold: searches are accountable, curation names who acted and is audited,
investigators open only identities their own searches showed them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from faceatlas.accounts import Credential, Role, User
from faceatlas.errors import CsrfError, FaceAtlasError, InvalidRequestError, NotFoundError
from faceatlas.http.uploads import read_photos
from faceatlas.identity import IdentityPhoto
from faceatlas.services import (
    MAX_PROBE_PHOTOS,
    NAMES_NOTICE,
    IdentityDesk,
    sighting_view,
)
from faceatlas.store import FaceRecord
from faceatlas.types import MAX_ROW_ID, RowId
from faceatlas.web.pages import check_form_csrf, pages_of, service_of, session
from faceatlas.web.searchform import SearchPage, accountable_search, checked_search, search_form

__all__ = ["router"]

router = APIRouter()

PAGE_SIZE = 48
FACE_ACTIONS = ("split", "reject", "move")
IDENTITY_SEARCH = SearchPage(
    "identity_search.html",
    "identity_results.html",
    ("case_number", "purpose"),
    MappingProxyType({"max_photos": MAX_PROBE_PHOTOS}),
)


def _desk(request: Request) -> IdentityDesk:
    return IdentityDesk(service_of(request))


def _int(value: object, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidRequestError(f"{what} must be a whole number") from None
    if number < 0:
        raise InvalidRequestError(f"{what} must not be negative")
    if number > MAX_ROW_ID:
        raise InvalidRequestError(f"{what} is out of range")
    return number


def _ints(text: str, what: str) -> list[int]:
    return [_int(part, what) for part in text.replace(",", " ").split()]


# --- list --------------------------------------------------------------------------------


@router.get("/identities")
def identities_page(request: Request, min_faces: int = 2, page: int = 1) -> Response:
    credential = session(request)
    min_faces = max(1, min(min_faces, 100_000))
    page = max(1, page)
    found = _desk(request).summaries(
        credential.user, min_faces=min_faces, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    return pages_of(request).render(
        request,
        "identities.html",
        {
            "identities": found[:PAGE_SIZE],
            "more": len(found) > PAGE_SIZE,
            "page": page,
            "min_faces": min_faces,
            "everyone": credential.user.role.allows(Role.SUPERVISOR),
        },
        credential=credential,
    )


# --- one identity ------------------------------------------------------------------------


def _identity_page(
    request: Request,
    credential: Credential,
    identity_id: int,
    *,
    error: str | None = None,
    status: int = 200,
    made: int | None = None,
) -> Response:
    view = _desk(request).show(credential.user, identity_id)
    return pages_of(request).render(
        request,
        "identity.html",
        {
            "identity": view.detail,
            "summary": view.detail.summary,
            "photos": _with_sightings(view.detail.photos, view.faces),
            "names_notice": NAMES_NOTICE,
            "error": error,
            "made": made,
        },
        credential=credential,
        status=status,
    )


def _with_sightings(
    photos: Sequence[IdentityPhoto], faces: Mapping[int, FaceRecord]
) -> list[dict[str, Any]]:
    """Each photo with the places its face was found (none for a face no longer stored)."""
    return [
        {
            "photo": p,
            "sightings": [sighting_view(s) for s in faces[p.face_id].sightings]
            if p.face_id in faces
            else [],
        }
        for p in photos
    ]


@router.get("/identities/search")
def identity_search_page(request: Request) -> Response:
    return search_form(request, IDENTITY_SEARCH, session(request))


@router.get("/identities/{identity_id}")
def identity_page(request: Request, identity_id: RowId, made: int | None = None) -> Response:
    return _identity_page(request, session(request), identity_id, made=made)


async def _curation_form(request: Request) -> tuple[Credential, FormData]:
    credential = session(request)
    form = await request.form()
    check_form_csrf(credential, form.get("csrf_token"))
    return credential, form


def _after(
    request: Request, credential: Credential, identity_id: int, exc: FaceAtlasError
) -> Response:
    """Show the identity again with the error; a missing identity is a plain 404 page."""
    if isinstance(exc, NotFoundError | CsrfError):
        raise exc
    try:
        return _identity_page(
            request, credential, identity_id, error=exc.message, status=exc.http_status
        )
    except NotFoundError:
        raise exc from None


async def _curate(
    request: Request, identity_id: int, act: Callable[[IdentityDesk, User, FormData], object]
) -> Response:
    """Run a curation form's action; back to the identity, or the error on its page."""
    credential, form = await _curation_form(request)
    try:
        await run_in_threadpool(act, _desk(request), credential.user, form)
    except FaceAtlasError as exc:
        return _after(request, credential, identity_id, exc)
    return RedirectResponse(f"/identities/{identity_id}", status_code=303)


@router.post("/identities/{identity_id}/label")
async def label(request: Request, identity_id: RowId) -> Response:
    def act(desk: IdentityDesk, user: User, form: FormData) -> None:
        text = str(form.get("label") or "").strip()
        desk.label(user, identity_id, text or None)

    return await _curate(request, identity_id, act)


@router.post("/identities/{identity_id}/merge")
async def merge(request: Request, identity_id: RowId) -> Response:
    def act(desk: IdentityDesk, user: User, form: FormData) -> None:
        others = _ints(str(form.get("others") or ""), "an identity number")
        if not others:
            raise InvalidRequestError("name the identities to merge into this one")
        desk.merge(user, identity_id, others)

    return await _curate(request, identity_id, act)


@router.post("/identities/{identity_id}/faces")
async def curate_faces(request: Request, identity_id: RowId) -> Response:
    """Split, "not this person" or move, for the faces ticked on the identity page."""
    credential, form = await _curation_form(request)
    desk = _desk(request)
    action = str(form.get("action") or "")
    try:
        if action not in FACE_ACTIONS:
            raise InvalidRequestError(f"unknown action {action!r}")
        faces = [_int(v, "a face number") for v in form.getlist("face_ids")]
        if not faces:
            raise InvalidRequestError("tick at least one photo first")
        if action == "split":
            made = await run_in_threadpool(desk.split, credential.user, identity_id, faces)
            return RedirectResponse(f"/identities/{identity_id}?made={made}", status_code=303)
        if action == "reject":
            await run_in_threadpool(desk.reject, credential.user, identity_id, faces)
        else:
            target_text = str(form.get("target") or "").strip()
            target = _int(target_text, "the identity number") if target_text else None
            placed = await run_in_threadpool(desk.move, credential.user, faces, target)
            if target is None:
                return RedirectResponse(f"/identities/{identity_id}?made={placed}", status_code=303)
    except FaceAtlasError as exc:
        return _after(request, credential, identity_id, exc)
    try:
        desk.ensure_may_open(credential.user, identity_id)
    except NotFoundError:  # every face left: the identity is gone
        return RedirectResponse("/identities", status_code=303)
    return RedirectResponse(f"/identities/{identity_id}", status_code=303)


# --- identity search ---------------------------------------------------------------------


@router.post("/identities/search")
async def identity_search(request: Request) -> Response:
    return await accountable_search(request, IDENTITY_SEARCH, _identity_search)


async def _identity_search(
    request: Request, credential: Credential, form: FormData, fields: dict[str, str]
) -> dict[str, Any]:
    service = service_of(request)
    search = checked_search(service, fields)
    photos = await read_photos(
        form,
        "images",
        MAX_PROBE_PHOTOS,
        service.settings.max_upload_bytes,
        f"choose between 1 and {MAX_PROBE_PHOTOS} photos of the same person",
    )
    outcome = await run_in_threadpool(
        _desk(request).search,
        credential.user,
        photos,
        search,
    )
    result = outcome.result
    hits = [
        {"hit": h, "band": band, "photos": _with_sightings(h.photos, outcome.faces)}
        for h, band in zip(result.hits, outcome.bands, strict=True)
    ]
    return {"outcome": outcome, "result": result, "hits": hits}
