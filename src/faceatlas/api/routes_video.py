"""Video probes: the face tracks of a clip, and a search with one of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from faceatlas.api.deps import Investigator, ServiceDep
from faceatlas.api.routes_search import search_out
from faceatlas.api.schemas import BoxOut, ErrorResponse, QualityOut, SearchOut, SpanOut
from faceatlas.api.search_form import IndexField, SearchForm, checked
from faceatlas.errors import InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.search.results import ProbeTrack
from faceatlas.services import Service
from faceatlas.services.video import VideoDesk, track_thumbnail_uri

__all__ = ["TrackOut", "TracksOut", "VideoSearchOut", "router"]

router = APIRouter(
    tags=["video"],
    responses={
        415: {
            "model": ErrorResponse,
            "description": "The upload is no MP4, MOV, MKV or WebM clip (`not_a_video`)",
        }
    },
)

VideoField = Annotated[
    UploadFile | None,
    File(description="The probe clip (MP4, MOV, MKV or WebM; content is sniffed)."),
]


class TrackOut(BaseModel):
    index: int = Field(description="Pass as `track` to search with this face track.")
    span: SpanOut
    box: BoxOut = Field(description="The face in its best frame (at `span.best_s`).")
    quality: QualityOut
    thumbnail: str = Field(description="The best frame's face, a JPEG data URI (not stored).")

    @classmethod
    def of(cls, t: ProbeTrack) -> TrackOut:
        return cls(
            index=t.index,
            span=SpanOut.of(t.span),
            box=BoxOut.of(t.box),
            quality=QualityOut.of(t.quality),
            thumbnail=track_thumbnail_uri(t),
        )


class TracksOut(BaseModel):
    tracks: list[TrackOut] = Field(description="In order of first appearance.")


class VideoSearchOut(SearchOut):
    probe_tracks: list[TrackOut] = Field(description="Every face track of the clip.")
    frames_searched: int = Field(
        description="Best frames of the searched track; scores are the mean over them."
    )


async def _clip(upload: UploadFile | None, service: Service) -> bytes:
    if upload is None:
        raise InvalidRequestError("attach a clip as the multipart field 'video'")
    return await read_upload(upload, service.settings.max_upload_bytes)


@router.post(
    "/video/tracks",
    response_model=TracksOut,
    summary="List the face tracks of a clip",
    description="Finds and tracks the faces of a short clip so a client can let the user "
    "pick one. Searches nothing.",
)
async def tracks(service: ServiceDep, _user: Investigator, video: VideoField = None) -> TracksOut:
    data = await _clip(video, service)
    found = await run_in_threadpool(VideoDesk(service).tracks, data)
    return TracksOut(tracks=[TrackOut.of(t) for t in found])


@router.post(
    "/search/video",
    response_model=VideoSearchOut,
    summary="Search by a face track of a clip",
    description=(
        "Searches the atlas with one face track of the clip (the one seen longest unless "
        "`track` is given), scoring each stored face by the mean over the track's best "
        "frames. Refused without a case number and an allowed purpose (`case_required`). "
        "Audited and rate-limited like a photo search. Results are investigative leads, "
        "not identifications."
    ),
)
async def search_video(
    service: ServiceDep,
    user: Investigator,
    form: SearchForm,
    video: VideoField = None,
    track: IndexField = None,
) -> VideoSearchOut:
    request = checked(service, form)
    data = await _clip(video, service)
    desk = VideoDesk(service)
    outcome = await run_in_threadpool(lambda: desk.search(user, data, request, track=track))
    r = outcome.result
    return VideoSearchOut(
        **search_out(outcome).model_dump(),
        probe_tracks=[TrackOut.of(t) for t in r.probe_tracks],
        frames_searched=r.frames_searched,
    )
