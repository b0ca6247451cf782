"""Search with a face track of a video clip: the form (pick a track on the clip) and its
results page (the photo search's, with the track's time span and frames)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from faceatlas.accounts import Credential
from faceatlas.errors import InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.services.video import VideoDesk, track_crop
from faceatlas.web.pages import service_of, session
from faceatlas.web.results import form_context, results_context, web_search
from faceatlas.web.searchform import SearchPage, accountable_search, search_form

__all__ = ["router"]

router = APIRouter()

VIDEO_SEARCH = SearchPage(
    "video_search.html", "results.html", ("case_number", "purpose", "track", "top_k", "weaker")
)


@router.get("/search/video")
def video_search_page(request: Request) -> Response:
    return search_form(request, VIDEO_SEARCH, session(request), **form_context(request))


@router.post("/search/video")
async def video_search(request: Request) -> Response:
    page = SearchPage(
        VIDEO_SEARCH.form, VIDEO_SEARCH.results, VIDEO_SEARCH.fields, form_context(request)
    )
    return await accountable_search(request, page, _search)


def _track_number(text: str) -> int | None:
    """The track picked on the clip (0-based; none: the one seen longest)."""
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise InvalidRequestError("Pick a face track of the clip.")
    return int(text)


async def _search(
    request: Request, credential: Credential, form: FormData, fields: dict[str, str]
) -> dict[str, Any]:
    service = service_of(request)
    track = _track_number(fields["track"])
    search = web_search(service, fields)
    upload = form.get("video")
    if not isinstance(upload, UploadFile):
        raise InvalidRequestError("Choose a video clip.")
    data = await read_upload(upload, service.settings.max_upload_bytes)
    desk = VideoDesk(service)
    outcome = await run_in_threadpool(
        lambda: desk.search(credential.user, data, search.request, track=track)
    )
    result = outcome.result
    crop = track_crop(result.probe_tracks[result.selected])
    return results_context(service, outcome, crop, search)
