"""The face search form and a results page whose leads can be judged: the probe face beside
every candidate, thumbnails at display size and twice that (``srcset``), a legend of the
bands with their error rates, and controls for how many candidates and weaker leads."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from faceatlas.accounts import Credential
from faceatlas.errors import InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.services import (
    SearchOutcome,
    SearchRequest,
    Service,
    sighting_view,
)
from faceatlas.services.probe_view import (
    ProbeCrop,
    band_legend,
    judge_hits,
    probe_crop,
    search_threshold,
    sized_thumbnail,
    weaker_threshold,
)
from faceatlas.types import RowId, record
from faceatlas.web.pages import service_of, session
from faceatlas.web.searchform import (
    SearchPage,
    accountable_search,
    checked_search,
    parse_top_k,
    search_form,
)

__all__ = [
    "THUMB_PX",
    "TOP_K_CHOICES",
    "WebSearch",
    "form_context",
    "parse_top_k",
    "results_context",
    "router",
    "web_search",
]

router = APIRouter()

THUMB_PX = 160
"""The side, in CSS pixels, a result's thumbnail and the probe crop are shown at."""
TOP_K_CHOICES = (5, 10, 20, 50)
"""The numbers of candidates the form offers (the configured default is added)."""

SEARCH = SearchPage(
    "search.html", "results.html", ("case_number", "purpose", "face", "top_k", "weaker")
)


def form_context(request: Request) -> dict[str, Any]:
    service = service_of(request)
    default = service.settings.top_k
    return {
        "top_k_choices": sorted({*TOP_K_CHOICES, default}),
        "top_k_default": default,
        "atlas_empty": service.health()[1] == 0,
    }


@router.get("/search")
def search_page(request: Request) -> Response:
    return search_form(request, SEARCH, session(request), **form_context(request))


@router.post("/search")
async def search(request: Request) -> Response:
    page = SearchPage(SEARCH.form, SEARCH.results, SEARCH.fields, form_context(request))
    return await accountable_search(request, page, _search)


def _face_number(text: str) -> int | None:
    """The face picked on the photo (0-based; none: the largest), never negative."""
    try:
        face = int(text) if text.strip() else None
    except ValueError:
        face = -1
    if face is not None and face < 0:
        raise InvalidRequestError("Pick a face on the photo.")
    return face


async def _search(
    request: Request, credential: Credential, form: FormData, fields: dict[str, str]
) -> dict[str, Any]:
    service = service_of(request)
    search = web_search(service, fields, face=_face_number(fields["face"]))
    data = await read_upload(form.get("image"), service.settings.max_upload_bytes)
    outcome = await run_in_threadpool(service.search, credential.user, data, search.request)
    crop = await run_in_threadpool(probe_crop, service, data, outcome.result, 2 * THUMB_PX)
    return results_context(service, outcome, crop, search)


@record
class WebSearch:
    """A search as a posted form asks for it, and the threshold a search uses by default
    (the leads are judged against it)."""

    request: SearchRequest
    usual: float


def web_search(service: Service, fields: dict[str, str], face: int | None = None) -> WebSearch:
    """The search of a posted form, its case number and purpose checked first; *show weaker
    leads* lowers the threshold (:func:`weaker_threshold`)."""
    request = checked_search(service, fields, face)
    usual = search_threshold(service)
    lowest = weaker_threshold(usual) if fields["weaker"] else None
    return WebSearch(replace(request, threshold=lowest), usual)


def results_context(
    service: Service, outcome: SearchOutcome, crop: ProbeCrop, search: WebSearch
) -> dict[str, Any]:
    """What ``results.html`` shows of a search: its leads judged against the usual threshold
    beside the probe ``crop``."""
    result = outcome.result
    usual = search.usual
    top_k = search.request.top_k
    judged = judge_hits(result, usual)
    hits = [
        {
            "hit": j.hit,
            "band": (j.band, j.band_text),
            "weaker": j.weaker,
            "fmr": j.hit.estimated_fmr,
            "fpir": j.hit.estimated_fpir,
            "sightings": [sighting_view(s, j.hit.span) for s in j.hit.sightings],
        }
        for j in judged
    ]
    return {
        "outcome": outcome,
        "result": result,
        "hits": hits,
        "probe": crop,
        "legend": band_legend(judged, usual, result.threshold),
        "usual_threshold": usual,
        "weaker_asked": search.request.threshold is not None,
        "top_k": service.settings.top_k if top_k is None else top_k,
        "thumb_px": THUMB_PX,
        "stored_thumb_px": service.settings.thumbnail_px,
    }


@router.get("/faces/{face_id}/thumbnail.jpg")
def face_thumbnail(
    request: Request, face_id: RowId, px: Annotated[int, Query(ge=32, le=640)] = THUMB_PX
) -> Response:
    """A result's face, longest side ``px`` when its image can still be read, else the
    largest stored thumbnail (``X-Thumbnail-Source`` says which)."""
    credential = session(request)
    thumb = sized_thumbnail(service_of(request), credential.user, face_id, px)
    return Response(
        thumb.jpeg,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=3600", "X-Thumbnail-Source": thumb.cut_from},
    )
