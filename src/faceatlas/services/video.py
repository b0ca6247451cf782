"""Video probes for every front end: list a clip's face tracks, then search with one.

A video search is a search: it takes the same path as a photo search
(:meth:`Service.accountable_search`: case number, purpose, bounded upload, rate limit, one
``search`` audit event with the clip's SHA-256 and ``kind: video``), and is kept in its case
like a photo search. Listing the tracks searches nothing and is not audited, like listing
the faces of a photo.
"""

from __future__ import annotations

import base64
import io

from PIL import Image

from faceatlas.accounts import User
from faceatlas.search import SearchResult
from faceatlas.search.results import ProbeTrack
from faceatlas.services.probe_view import ProbeCrop
from faceatlas.services.search import (
    SearchOutcome,
    SearchRecord,
    SearchRequest,
    resolve_top_k,
)
from faceatlas.services.service import Service

__all__ = ["VideoDesk", "track_crop", "track_thumbnail_uri"]


def track_thumbnail_uri(track: ProbeTrack) -> str:
    """A probe track's best face as a ``data:image/jpeg;base64,...`` URI (never stored)."""
    return "data:image/jpeg;base64," + base64.b64encode(track.thumbnail_jpeg).decode("ascii")


def track_crop(track: ProbeTrack) -> ProbeCrop:
    """A probe track's best face as a results page shows the probe face."""
    with Image.open(io.BytesIO(track.thumbnail_jpeg)) as im:
        width, height = im.size
    return ProbeCrop(track.index, track_thumbnail_uri(track), width, height)


class VideoDesk:
    """What a front end does with a probe clip, on behalf of a user."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.atlas = service.atlas

    def tracks(self, data: bytes) -> list[ProbeTrack]:
        """The face tracks of a clip, so a user can pick one; searches nothing."""
        self.service.check_upload(data)
        with self.service.gate.shared():
            return self.atlas.searcher.video_tracks(data)

    def search(
        self, user: User, data: bytes, request: SearchRequest, *, track: int | None = None
    ) -> SearchOutcome:
        """An accountable search with face track ``track`` of the clip ``data`` (by default
        the track seen longest), recorded into its case."""
        case, _ = self.service.check_case(request.case_number, request.purpose)
        settings = self.service.settings

        def run() -> tuple[SearchResult, SearchRecord]:
            top_k = resolve_top_k(settings, request.top_k)
            result = self.atlas.searcher.search_video(
                data, track=track, top_k=top_k, min_similarity=request.threshold
            )
            chosen = result.probe_tracks[result.selected]
            parameters = {
                "track": result.selected,
                "tracks_in_probe": len(result.probe_tracks),
                "track_span": chosen.span.as_dict(),
                "frames_searched": result.frames_searched,
                "top_k": top_k,
                "threshold": round(result.threshold, 4),
                "threshold_source": result.threshold_source,
                "model_id": result.model_id,
            }
            shown = [h.face_id for h in result.hits]
            return result, SearchRecord(parameters, shown, {"kind": "video"})

        result, entry, hashes = self.service.accountable_search(user, request, [data], run)
        self.service.casework.record_search(user, case, entry, data, result)
        return SearchOutcome(result, entry, hashes[0])
