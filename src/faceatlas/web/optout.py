"""The public opt-out page: no account needed, selfies analysed in memory and never stored."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from faceatlas.errors import FaceAtlasError
from faceatlas.http.session import client_of, token_matches_cookie
from faceatlas.http.uploads import read_photos
from faceatlas.privacy import MAX_SELFIES
from faceatlas.web.pages import pages_of, service_of, set_strict_cookie

__all__ = ["router"]

router = APIRouter()

OPTOUT_CSRF_COOKIE = "fa_optout_csrf"


def _form(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = pages_of(request).render(
        request,
        "optout.html",
        {"optout_csrf": token, "error": error, "max_selfies": MAX_SELFIES},
        status=status,
    )
    set_strict_cookie(request, response, OPTOUT_CSRF_COOKIE, token, max_age=3600, path="/optout")
    return response


@router.get("/optout")
def optout_form(request: Request) -> Response:
    return _form(request)


@router.post("/optout")
async def optout_submit(request: Request) -> Response:
    service = service_of(request)
    try:
        service.admit_optout(client_of(request))  # before the body is read
    except FaceAtlasError as exc:
        return _form(request, exc.message, exc.http_status)
    form = await request.form()
    if not token_matches_cookie(request, OPTOUT_CSRF_COOKIE, str(form.get("csrf_token") or "")):
        return _form(request, "The form expired; please try again.", 403)
    try:
        selfies = await read_photos(
            form,
            "selfie",
            MAX_SELFIES,
            service.settings.max_upload_bytes,
            f"attach between 1 and {MAX_SELFIES} photos of yourself",
        )
        optout = await run_in_threadpool(
            service.optout_request, selfies, str(form.get("contact") or "")
        )
    except FaceAtlasError as exc:
        return _form(request, exc.message, exc.http_status)
    response = pages_of(request).render(request, "optout_done.html", {"optout": optout})
    response.delete_cookie(OPTOUT_CSRF_COOKIE, path="/optout")
    return response
