"""What front ends show of stored records: plain views, never a server path."""

from __future__ import annotations

from faceatlas.ingest.upload import upload_job_of
from faceatlas.search.results import link_at_time
from faceatlas.store.records import SightingRecord
from faceatlas.types import FaceSpan, record

__all__ = ["SightingView", "sighting_view"]


@record
class SightingView:
    """Where an image was seen. ``location`` is the image URL for web sources, the path
    inside the ingested folder for folder sources (never a server path), and the uploaded
    file's name (with the entry's path inside an uploaded zip) for uploads, which name their
    job (``upload_job``). For a face of a video seen at an http(s) URL, ``at_time_url`` opens
    the video where the face appears."""

    source_kind: str
    location: str
    page_url: str | None
    page_title: str | None
    alt_text: str | None
    caption: str | None
    first_seen: str
    last_seen: str
    at_time_url: str | None = None
    upload_job: int | None = None


def sighting_view(s: SightingRecord, span: FaceSpan | None = None) -> SightingView:
    """``s`` as front ends show it; ``span``: the face's, when it is a face of a video."""
    location = s.locator
    if s.source_kind == "folder":
        root = s.source_locator.rstrip("/") + "/"
        location = s.locator[len(root) :] if s.locator.startswith(root) else s.locator
        location = location.rsplit("/", 1)[-1] if location.startswith("/") else location
    return SightingView(
        source_kind=s.source_kind,
        location=location,
        page_url=s.page_url or None,
        page_title=s.page_title,
        alt_text=s.alt_text,
        caption=s.caption,
        first_seen=s.first_seen,
        last_seen=s.last_seen,
        at_time_url=link_at_time(s.locator, span),
        upload_job=upload_job_of(s.source_kind, s.source_locator),
    )
