"""The watchlist pages: entries of the user's cases (put a face on a case's watchlist,
approve, renew, delete) and the alerts they raised. Every action goes through
:class:`~faceatlas.services.watchlists.WatchlistDesk`; a refusal is shown on the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from faceatlas.accounts import Credential
from faceatlas.errors import FaceAtlasError, InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.services.watchlists import ALERT_NOTICE, WatchlistDesk, WatchRequest
from faceatlas.types import RowId
from faceatlas.web.pages import (
    CsrfField,
    check_form_csrf,
    form_page,
    pages_of,
    posted_by,
    service_of,
    session,
)

__all__ = ["router"]

router = APIRouter()

ACTIONS = ("approve", "renew", "delete")


def _page(request: Request, credential: Credential, **extra: Any) -> Response:
    desk = WatchlistDesk(service_of(request))
    context = {"entries": desk.entries(credential.user), "max_days": desk.max_days, "form": {}}
    return form_page(request, "watchlist.html", credential, context, extra)


@router.get("/watchlist")
def watchlist_page(request: Request) -> Response:
    return _page(request, session(request))


def _int(text: object, what: str) -> int | None:
    value = str(text or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidRequestError(f"{what} must be a whole number") from None


@router.post("/watchlist")
async def add_entry(request: Request) -> Response:
    credential = session(request)
    form = await request.form()
    typed = {k: str(form.get(k) or "") for k in ("case_number", "days", "label", "face")}
    service = service_of(request)
    try:
        check_form_csrf(credential, form.get("csrf_token"))
        days = _int(typed["days"], "days") or service.settings.watchlist_max_days
        face = _int(typed["face"], "the face")
        data = await read_upload(form.get("image"), service.settings.max_upload_bytes)
        request_ = WatchRequest(typed["case_number"], days, typed["label"])
        desk = WatchlistDesk(service)
        await run_in_threadpool(desk.add_photo, credential.user, data, request_, face)
    except FaceAtlasError as exc:
        return _page(request, credential, form=typed, error=exc.message, status=exc.http_status)
    return RedirectResponse("/watchlist", status_code=303)


@router.post("/watchlist/{entry_id}")
def change_entry(
    request: Request,
    entry_id: RowId,
    action: Annotated[str, Form(max_length=20)],
    days: Annotated[str, Form(max_length=10)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    credential = posted_by(request, csrf_token)
    desk = WatchlistDesk(service_of(request))
    user = credential.user
    try:
        if action not in ACTIONS:
            raise InvalidRequestError(f"unknown action {action!r}")
        if action == "approve":
            desk.approve(user, entry_id, _int(days, "days"))
        elif action == "renew":
            desk.renew(user, entry_id, _int(days, "days") or desk.max_days)
        else:
            desk.delete(user, entry_id)
    except FaceAtlasError as exc:
        return _page(request, credential, error=exc.message, status=exc.http_status)
    return RedirectResponse("/watchlist", status_code=303)


@router.get("/watchlist/alerts")
def alerts_page(request: Request) -> Response:
    credential = session(request)
    alerts = WatchlistDesk(service_of(request)).alerts(credential.user)
    return pages_of(request).render(
        request,
        "watchlist_alerts.html",
        {"alerts": alerts, "alert_notice": ALERT_NOTICE},
        credential=credential,
    )
