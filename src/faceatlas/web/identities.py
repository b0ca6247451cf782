"""Identity pages: the list, one person (photos, where found, candidate names, curation
log and curation forms), and identity search with one or more photos of one person.

They use the same :class:`~faceatlas.api.identities.IdentityDesk` as the REST API, so
the same rules hold: searches are accountable, curation names who acted and is audited,
investigators open only identities their own searches showed them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from faceatlas.accounts import Credential, Role
from faceatlas.api.identities import MAX_PROBE_PHOTOS, IdentityDesk
from faceatlas.api.schemas import SightingOut
from faceatlas.api.schemas_identities import NAMES_NOTICE
from faceatlas.api.service import SearchRequest, similarity_band
from faceatlas.api.uploads import read_upload
from faceatlas.errors import CsrfError, FaceAtlasError, InvalidRequestError, NotFoundError
from faceatlas.web.pages import Pages, check_form_csrf, service_of, session

__all__ = ["router"]

router = APIRouter()

PAGE_SIZE = 48
FACE_ACTIONS = ("split", "reject", "move")


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def _desk(request: Request) -> IdentityDesk:
    return IdentityDesk(service_of(request))


def _int(value: object, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidRequestError(f"{what} must be a whole number") from None
    if number < 0:
        raise InvalidRequestError(f"{what} must not be negative")
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
    return _pages(request).render(
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
    photos = [
        {
            "photo": p,
            "sightings": [SightingOut.of(s) for s in view.faces[p.face_id].sightings]
            if p.face_id in view.faces
            else [],
        }
        for p in view.detail.photos
    ]
    return _pages(request).render(
        request,
        "identity.html",
        {
            "identity": view.detail,
            "summary": view.detail.summary,
            "photos": photos,
            "names_notice": NAMES_NOTICE,
            "error": error,
            "made": made,
        },
        credential=credential,
        status=status,
    )


@router.get("/identities/search")
def identity_search_page(request: Request) -> Response:
    return _search_form(request, session(request))


@router.get("/identities/{identity_id}")
def identity_page(request: Request, identity_id: int, made: int | None = None) -> Response:
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


@router.post("/identities/{identity_id}/label")
async def label(request: Request, identity_id: int) -> Response:
    credential, form = await _curation_form(request)
    text = str(form.get("label") or "").strip()
    try:
        await run_in_threadpool(_desk(request).label, credential.user, identity_id, text or None)
    except FaceAtlasError as exc:
        return _after(request, credential, identity_id, exc)
    return RedirectResponse(f"/identities/{identity_id}", status_code=303)


@router.post("/identities/{identity_id}/merge")
async def merge(request: Request, identity_id: int) -> Response:
    credential, form = await _curation_form(request)
    try:
        others = _ints(str(form.get("others") or ""), "an identity number")
        if not others:
            raise InvalidRequestError("name the identities to merge into this one")
        await run_in_threadpool(_desk(request).merge, credential.user, identity_id, others)
    except FaceAtlasError as exc:
        return _after(request, credential, identity_id, exc)
    return RedirectResponse(f"/identities/{identity_id}", status_code=303)


@router.post("/identities/{identity_id}/faces")
async def curate_faces(request: Request, identity_id: int) -> Response:
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


def _search_form(request: Request, credential: Credential, **extra: Any) -> Response:
    settings = service_of(request).settings
    status = int(extra.pop("status", 200))
    context = {
        "purposes": settings.search_purposes,
        "form": {},
        "error": None,
        "max_photos": MAX_PROBE_PHOTOS,
        **extra,
    }
    return _pages(request).render(
        request, "identity_search.html", context, credential=credential, status=status
    )


@router.post("/identities/search")
async def identity_search(request: Request) -> Response:
    credential = session(request)
    service = service_of(request)
    form = await request.form()
    try:
        check_form_csrf(credential, form.get("csrf_token"))
    except CsrfError as exc:
        return _search_form(request, credential, error=exc.message, status=exc.http_status)
    fields = {k: str(form.get(k) or "") for k in ("case_number", "purpose")}
    uploads = [u for u in form.getlist("images") if isinstance(u, UploadFile) and u.filename]
    try:
        service.check_case(fields["case_number"], fields["purpose"])
        if not 1 <= len(uploads) <= MAX_PROBE_PHOTOS:
            raise InvalidRequestError(
                f"choose between 1 and {MAX_PROBE_PHOTOS} photos of the same person"
            )
        photos = [await read_upload(u, service.settings.max_upload_bytes) for u in uploads]
        outcome = await run_in_threadpool(
            _desk(request).search,
            credential.user,
            photos,
            SearchRequest(fields["case_number"], fields["purpose"], interface="web"),
        )
    except FaceAtlasError as exc:
        return _search_form(
            request, credential, form=fields, error=exc.message, status=exc.http_status
        )
    result = outcome.result
    hits = [
        {
            "hit": h,
            "band": similarity_band(h.score, result.threshold),
            "photos": [
                {
                    "photo": p,
                    "sightings": [SightingOut.of(s) for s in outcome.faces[p.face_id].sightings]
                    if p.face_id in outcome.faces
                    else [],
                }
                for p in h.photos
            ],
        }
        for h in result.hits
    ]
    return _pages(request).render(
        request,
        "identity_results.html",
        {"outcome": outcome, "result": result, "hits": hits},
        credential=credential,
    )
