"""The home page: what the atlas holds and what to do next; while it is empty, how to fill it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from faceatlas.accounts import Role
from faceatlas.web.pages import optional_session, pages_of, service_of

__all__ = ["router"]

router = APIRouter()

JOBS_SHOWN = 5


@router.get("/")
def home(request: Request) -> Response:
    credential = optional_session(request)
    if credential is None or credential.user.must_change_password:
        where = "/login" if credential is None else "/account/password"
        return RedirectResponse(where, status_code=303)
    service = service_of(request)
    holdings = service.holdings()
    admin = credential.user.role.allows(Role.ADMIN)
    return pages_of(request).render(
        request,
        "home.html",
        {
            "holdings": holdings,
            "atlas_empty": holdings["indexed_faces"] == 0,
            "jobs": service.jobs.list(JOBS_SHOWN) if admin else [],
        },
        credential=credential,
    )
