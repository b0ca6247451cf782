"""The privacy admin page: review pending opt-outs (approve or reject with a note) and take
a domain down, through the same :class:`~faceatlas.services.PrivacyDesk` as the REST API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from faceatlas.accounts import Credential, Role
from faceatlas.errors import FaceAtlasError, InvalidRequestError
from faceatlas.privacy import OptOutStatus
from faceatlas.services import PrivacyDesk
from faceatlas.types import RowId
from faceatlas.web.pages import CsrfField, form_page, posted_by, service_of, session

__all__ = ["router"]

router = APIRouter()

LOG_ROWS = 30


def _page(request: Request, credential: Credential, **extra: Any) -> Response:
    desk = PrivacyDesk(service_of(request))
    context = {
        "pending": desk.optouts(OptOutStatus.PENDING),
        "decided": [r for r in desk.optouts() if r.status is not OptOutStatus.PENDING][-20:],
        "takedowns": desk.takedowns(),
        "log": desk.log(LOG_ROWS),
        "done": None,
        "form": {},
    }
    return form_page(request, "admin_privacy.html", credential, context, extra)


@router.get("/admin/privacy")
def privacy_page(request: Request) -> Response:
    return _page(request, session(request, Role.ADMIN))


@router.post("/admin/privacy/optouts/{request_id}")
async def decide_optout(
    request: Request,
    request_id: RowId,
    action: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    credential = posted_by(request, csrf_token, Role.ADMIN)
    desk = PrivacyDesk(service_of(request))
    user = credential.user
    try:
        if action == "approve":
            receipt = await run_in_threadpool(desk.approve, user, request_id, note)
            counts = receipt.erased
            done = (
                f"Opt-out {request_id} approved: erased {counts.faces} face(s) and "
                f"{counts.images} image(s) at threshold {receipt.threshold:.3f} "
                f"({receipt.threshold_source}); matching faces are blocked from now on."
            )
        elif action == "reject":
            await run_in_threadpool(desk.reject, user, request_id, note)
            done = f"Opt-out {request_id} rejected; its templates were deleted."
        else:
            raise InvalidRequestError(f"unknown action {action!r}")
    except FaceAtlasError as exc:
        return _page(request, credential, error=exc.message, status=exc.http_status)
    return _page(request, credential, done=done)


@router.post("/admin/privacy/takedowns")
async def take_down(
    request: Request,
    domain: Annotated[str, Form(max_length=253)] = "",
    case_ref: Annotated[str, Form(max_length=200)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    credential = posted_by(request, csrf_token, Role.ADMIN)
    desk = PrivacyDesk(service_of(request))
    form = {"domain": domain, "case_ref": case_ref}
    try:
        counts = await run_in_threadpool(desk.takedown, credential.user, domain, case_ref)
    except FaceAtlasError as exc:
        return _page(request, credential, error=exc.message, form=form, status=exc.http_status)
    done = (
        f"{domain.strip().lower()} taken down: erased {counts.images} image(s), "
        f"{counts.faces} face(s) and {counts.sightings} sighting(s); every later ingest "
        "refuses it."
    )
    return _page(request, credential, done=done)
