"""What a results page shows so its leads can be judged: the probe face cut from the
uploaded photo (kept in memory only), thumbnails cut at the size they are displayed, each
lead's band measured against the threshold a search uses by default (so leads found with
a lower one are marked weaker), and a legend of the bands with the error rates the shown
leads carry.
"""

from __future__ import annotations

import base64
import io

from PIL import Image

from faceatlas.accounts import User
from faceatlas.engine import decode_image, thumbnail_jpeg
from faceatlas.engine.video import VideoLimits
from faceatlas.ingest.reembed import local_file_reader, read_frame, read_image
from faceatlas.search import SearchResult
from faceatlas.search.bands import BANDS, band_floor, similarity_band
from faceatlas.search.fairness import FpirEstimate
from faceatlas.search.results import Hit
from faceatlas.services.service import Service
from faceatlas.types import record

__all__ = [
    "WEAKER_LEADS_SHARE",
    "BandRow",
    "JudgedHit",
    "ProbeCrop",
    "SizedThumbnail",
    "band_legend",
    "judge_hits",
    "probe_crop",
    "search_threshold",
    "sized_thumbnail",
    "weaker_threshold",
]

WEAKER_LEADS_SHARE = 0.25
""""Show weaker leads" lowers the threshold by this share of the way from it to 0."""


@record
class ProbeCrop:
    """The searched face (``index``, 0-based as in the form and API) as a JPEG data URI."""

    index: int
    data_uri: str
    width: int
    height: int


def probe_crop(service: Service, data: bytes, result: SearchResult, side_px: int) -> ProbeCrop:
    """The face ``result`` searched with, cut from the probe photo ``data`` (its box grown by
    a fifth on each side, longest side at most ``side_px``). Nothing is stored."""
    st = service.settings
    image = decode_image(data, max_pixels=st.max_pixels, max_bytes=st.max_file_bytes).pixels
    face = next(f for f in result.probe_faces if f.index == result.selected)
    height, width = image.shape[:2]
    jpeg = thumbnail_jpeg(image, face.box.clip(width, height), max_side_px=side_px)
    with Image.open(io.BytesIO(jpeg)) as im:
        crop_w, crop_h = im.size
    uri = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    return ProbeCrop(result.selected, uri, crop_w, crop_h)


@record
class SizedThumbnail:
    """A face's thumbnail: JPEG bytes and what they were cut from (``image``: the stored
    image, read again at the size asked for; ``stored``: the stored thumbnail, which may be
    smaller than asked)."""

    jpeg: bytes
    cut_from: str


def sized_thumbnail(service: Service, user: User, face_id: int, side_px: int) -> SizedThumbnail:
    """Face ``face_id`` for ``user`` (who may open it: ``not_found`` otherwise), longest side
    ``side_px`` when its image (a video's: the frame at the face's ``best_s``) can still be
    read where it was ingested, else the largest stored thumbnail."""
    stored = service.thumbnail(user, face_id)
    atlas = service.atlas
    record = atlas.gallery.face(face_id)
    if record.span is not None:  # a face of a video: its best frame
        limits = VideoLimits.from_settings(atlas.settings)
        image = read_frame(
            atlas.catalog, record.image.id, local_file_reader, record.span.best_s, limits
        )
    else:
        image = read_image(
            atlas.catalog, record.image.id, local_file_reader, atlas.settings.max_pixels
        )
    if image is None:
        return SizedThumbnail(stored, "stored")
    height, width = image.shape[:2]
    jpeg = thumbnail_jpeg(image, record.box.clip(width, height), max_side_px=side_px)
    return SizedThumbnail(jpeg, "image")


def search_threshold(service: Service) -> float:
    """The threshold a search uses when it asks for none."""
    return service.atlas.searcher.search_threshold()[0]


def weaker_threshold(threshold: float) -> float:
    """The lower threshold "show weaker leads" searches with."""
    return round(threshold - WEAKER_LEADS_SHARE * max(threshold, 0.0), 4)


@record
class JudgedHit:
    """A lead with its band against the default threshold; ``weaker`` when it is below that
    threshold (found only because a lower one was asked for)."""

    hit: Hit
    band: str
    band_text: str
    weaker: bool


def judge_hits(result: SearchResult, threshold: float) -> list[JudgedHit]:
    """``result``'s leads in rank order, banded against ``threshold`` (the default one)."""
    judged = []
    for h in result.hits:
        band, text = similarity_band(h.decision_score, threshold)
        weaker = h.decision_score < threshold
        if weaker:
            band, text = "weaker", "below the usual threshold: most such leads are strangers"
        judged.append(JudgedHit(h, band, text, weaker))
    return judged


@record
class BandRow:
    """One band of the legend: scores from ``score_from`` (up to ``score_to``), what it
    means, how many shown leads fall in it and the highest error rates among them."""

    band: str
    score_from: float
    score_to: float | None
    meaning: str
    leads: int
    fpir: FpirEstimate | None
    fmr: float | None


def band_legend(judged: list[JudgedHit], threshold: float, lowest: float) -> list[BandRow]:
    """The bands, strongest first, for leads judged against ``threshold``; a ``weaker`` row
    from ``lowest`` when the search asked for a lower threshold."""
    rows: list[BandRow] = []
    top: float | None = None
    for band, position, meaning in BANDS:
        floor = band_floor(position, threshold)
        rows.append(_row(band, floor, top, meaning, [j for j in judged if j.band == band]))
        top = floor
    if lowest < threshold:
        weaker = [j for j in judged if j.weaker]
        text = "below the usual threshold: shown only because weaker leads were asked for"
        rows.append(_row("weaker", lowest, threshold, text, weaker))
    return rows


def _row(
    band: str, floor: float, top: float | None, meaning: str, leads: list[JudgedHit]
) -> BandRow:
    fpirs = [j.hit.estimated_fpir for j in leads if j.hit.estimated_fpir is not None]
    fmrs = [j.hit.estimated_fmr for j in leads if j.hit.estimated_fmr is not None]
    return BandRow(
        band=band,
        score_from=floor,
        score_to=top,
        meaning=meaning,
        leads=len(leads),
        fpir=max(fpirs, key=lambda e: e.fpir) if fpirs else None,
        fmr=max(fmrs) if fmrs else None,
    )
