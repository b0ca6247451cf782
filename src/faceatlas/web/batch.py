"""Batch search (upload form, then a page that follows the job and shows its report) and
group-photo search (form, then every face on the photo with numbered boxes and each face's
own candidates). Both go through the services, like the single search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from faceatlas.accounts import Credential
from faceatlas.http.batch_uploads import read_batch
from faceatlas.http.uploads import read_upload
from faceatlas.services import sighting_view
from faceatlas.services.batch import BatchDesk
from faceatlas.services.group import GroupDesk, photo_view
from faceatlas.services.probe_view import judge_hits, search_threshold
from faceatlas.types import RowId
from faceatlas.web.pages import pages_of, service_of, session
from faceatlas.web.searchform import SearchPage, accountable_search, checked_search, search_form

__all__ = ["PHOTO_PX", "router"]

router = APIRouter()

PHOTO_PX = 1200
"""Longest side of a group photo as the results page shows it (boxes scale with it)."""

BATCH = SearchPage("batch.html", "batch_report.html", ("case_number", "purpose", "top_k"))
GROUP = SearchPage("group.html", "group_results.html", ("case_number", "purpose", "top_k"))


def _batch_page(request: Request, credential: Credential) -> SearchPage:
    """The batch form with the user's recent batches and the batch bounds."""
    st = service_of(request).settings
    context = {
        "batches": BatchDesk(service_of(request)).mine(credential.user),
        "max_probes": st.batch_max_probes,
        "max_mb": st.batch_max_bytes // (1024 * 1024),
    }
    return SearchPage(BATCH.form, BATCH.results, BATCH.fields, context)


# --- batch ------------------------------------------------------------------------------------


@router.get("/search/batch")
def batch_page(request: Request) -> Response:
    credential = session(request)
    return search_form(request, _batch_page(request, credential), credential)


@router.post("/search/batch")
async def batch_submit(request: Request) -> Response:
    page = _batch_page(request, session(request))
    return await accountable_search(request, page, _batch)


async def _batch(
    request: Request, credential: Credential, form: FormData, fields: dict[str, str]
) -> Response:
    service = service_of(request)
    search = checked_search(service, fields)
    probes = await read_batch(form.getlist("images"), form.get("archive"), service.settings)
    desk = BatchDesk(service)
    batch = await run_in_threadpool(desk.submit, credential.user, probes, search)
    return RedirectResponse(f"/search/batches/{batch.id}", status_code=303)


@router.get("/search/batches/{batch_id}")
def batch_report_page(request: Request, batch_id: RowId) -> Response:
    credential = session(request)
    desk = BatchDesk(service_of(request))
    batch = desk.get(credential.user, batch_id)
    report = desk.report(credential.user, batch_id) if batch.status == "finished" else None
    return pages_of(request).render(
        request, BATCH.results, {"batch": batch, "report": report}, credential=credential
    )


# --- group photo ------------------------------------------------------------------------------


@router.get("/search/group")
def group_page(request: Request) -> Response:
    return search_form(request, GROUP, session(request))


@router.post("/search/group")
async def group_search(request: Request) -> Response:
    return await accountable_search(request, GROUP, _group)


async def _group(
    request: Request, credential: Credential, form: FormData, fields: dict[str, str]
) -> dict[str, Any]:
    service = service_of(request)
    search = checked_search(service, fields)
    data = await read_upload(form.get("image"), service.settings.max_upload_bytes)
    outcome = await run_in_threadpool(GroupDesk(service).search, credential.user, data, search)
    photo = await run_in_threadpool(photo_view, service, data, PHOTO_PX)
    usual = search_threshold(service)
    faces = []
    for f in outcome.faces:
        hits = []
        if f.outcome is not None:
            hits = [
                {
                    "hit": j.hit,
                    "band": j.band,
                    "sightings": [sighting_view(s) for s in j.hit.sightings],
                }
                for j in judge_hits(f.outcome.result, usual)
            ]
        faces.append({"face": f.face, "outcome": f.outcome, "refused": f.refused, "hits": hits})
    return {"group": outcome, "faces": faces, "photo": photo, "case_number": search.case_number}
