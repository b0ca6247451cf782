"""Watchlists bound to cases: entries (create, approve, renew, list, delete) and their alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from faceatlas.api.deps import Admin, Investigator, ServiceDep
from faceatlas.api.schemas_watchlists import (
    AlertOut,
    AlertsOut,
    DaysIn,
    DeliveriesOut,
    EntriesOut,
    EntryOut,
)
from faceatlas.errors import InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.services.watchlists import ALERT_NOTICE, WatchlistDesk, WatchRequest
from faceatlas.types import MAX_ROW_ID, RowId

__all__ = ["router"]

router = APIRouter(prefix="/watchlist", tags=["watchlists"])

CaseQuery = Annotated[str | None, Query(max_length=64, description="Only this case's.")]


@router.post(
    "/entries",
    response_model=EntryOut,
    status_code=201,
    summary="Put a face (of a photo, or an identity) on a case's watchlist",
    description=(
        "Needs an open case in which you may search. The entry is pending, and matches "
        "nothing, until a supervisor of the case owner's unit or an administrator other than "
        "you approves it. `days` is at most `watchlist_max_days`; `threshold` may only be "
        "stricter than the one in force. Give a photo (`image`, optionally `face`) or an "
        "`identity_id`."
    ),
)
async def create_entry(
    service: ServiceDep,
    user: Investigator,
    case_number: Annotated[str, Form(max_length=64)],
    days: Annotated[int, Form(ge=1, le=365)],
    image: Annotated[UploadFile | None, File(description="The probe photo.")] = None,
    identity_id: Annotated[int | None, Form(ge=1, le=MAX_ROW_ID)] = None,
    face: Annotated[int | None, Form(ge=0, le=10_000)] = None,
    label: Annotated[str, Form(max_length=2000)] = "",
    threshold: Annotated[float | None, Form(ge=-1.0, le=1.0)] = None,
) -> EntryOut:
    desk = WatchlistDesk(service)
    request = WatchRequest(case_number, days, label, threshold)
    if identity_id is not None:
        if image is not None:
            raise InvalidRequestError("give a photo or an identity, not both")
        entry = await run_in_threadpool(desk.add_identity, user, identity_id, request)
    else:
        data = await read_upload(image, service.settings.max_upload_bytes)
        entry = await run_in_threadpool(desk.add_photo, user, data, request, face)
    return EntryOut.of(entry)


@router.get("/entries", response_model=EntriesOut, summary="Watchlist entries of your cases")
def list_entries(
    service: ServiceDep, user: Investigator, case_number: CaseQuery = None
) -> EntriesOut:
    desk = WatchlistDesk(service)
    entries = desk.entries(user, case_number)
    return EntriesOut(entries=[EntryOut.of(e) for e in entries], max_days=desk.max_days)


@router.get("/entries/{entry_id}", response_model=EntryOut, summary="One watchlist entry")
def get_entry(entry_id: RowId, service: ServiceDep, user: Investigator) -> EntryOut:
    return EntryOut.of(WatchlistDesk(service).entry(user, entry_id))


@router.post(
    "/entries/{entry_id}/approve",
    response_model=EntryOut,
    summary="Approve a pending entry (a supervisor of the unit, or an administrator)",
)
def approve_entry(
    entry_id: RowId, body: DaysIn, service: ServiceDep, user: Investigator
) -> EntryOut:
    return EntryOut.of(WatchlistDesk(service).approve(user, entry_id, body.days))


@router.post(
    "/entries/{entry_id}/renew",
    response_model=EntryOut,
    summary="Renew an active entry for `days` from now (a supervisor, or an administrator)",
)
def renew_entry(entry_id: RowId, body: DaysIn, service: ServiceDep, user: Investigator) -> EntryOut:
    if body.days is None:
        raise InvalidRequestError("renewing needs the number of days")
    return EntryOut.of(WatchlistDesk(service).renew(user, entry_id, body.days))


@router.delete(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="End an entry now and purge its probe embedding",
)
def delete_entry(entry_id: RowId, service: ServiceDep, user: Investigator) -> EntryOut:
    return EntryOut.of(WatchlistDesk(service).delete(user, entry_id))


@router.get("/alerts", response_model=AlertsOut, summary="Alerts of your cases, newest first")
def list_alerts(
    service: ServiceDep,
    user: Investigator,
    case_number: CaseQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AlertsOut:
    alerts = WatchlistDesk(service).alerts(user, case_number, limit)
    return AlertsOut(alerts=[AlertOut.of(a) for a in alerts], notice=ALERT_NOTICE)


@router.post(
    "/deliveries",
    response_model=DeliveriesOut,
    summary="Retry the webhook deliveries still pending (administrators)",
)
def retry_deliveries(service: ServiceDep, admin: Admin) -> DeliveriesOut:
    return DeliveriesOut(pending=WatchlistDesk(service).deliver(admin))
