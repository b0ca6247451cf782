"""Typed search results shared by every front end."""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any

from faceatlas.engine.probe_gate import PASS, ProbeVerdict
from faceatlas.search.fairness import FpirEstimate
from faceatlas.store.records import ImageRecord, SightingRecord
from faceatlas.types import Box, FaceQuality, FaceSpan, is_web_url, picked, record

__all__ = [
    "Hit",
    "ProbeFace",
    "ProbeTrack",
    "SearchResult",
    "image_dict",
    "link_at_time",
    "sighting_dict",
]


def link_at_time(locator: str, span: FaceSpan | None) -> str | None:
    """The media URL ``locator`` opened where a video's face appears (``#t=START``, the Media
    Fragments time, which browsers' players honour), for an http(s) URL of a video face;
    ``None`` for a photo's face or a local file."""
    if span is None or not is_web_url(locator):
        return None
    start = math.floor(span.start_s * 10) / 10
    return f"{locator.split('#', 1)[0]}#t={start:g}"


@record
class ProbeFace:
    """A face found in the probe photo. ``index`` is what ``--face``/``face`` selects."""

    index: int
    box: Box
    quality: FaceQuality

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "box": self.box.as_dict(), "quality": self.quality.as_dict()}


@record
class ProbeTrack:
    """A face track found in a probe clip. ``index`` is what ``track`` selects; ``box`` and
    ``quality`` are its best frame's, ``thumbnail_jpeg`` that frame's face (shown for the
    pick, never stored)."""

    index: int
    span: FaceSpan
    box: Box
    quality: FaceQuality
    thumbnail_jpeg: bytes = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "span": self.span.as_dict(),
            "box": self.box.as_dict(),
            "quality": self.quality.as_dict(),
        }


@record
class Hit:
    """A stored face similar to the probe: a lead to check, never an identification."""

    rank: int
    face_id: int
    similarity: float
    box: Box
    quality: FaceQuality
    image: ImageRecord
    sightings: tuple[SightingRecord, ...]
    estimated_fmr: float | None = None
    """Share of impostor comparisons (different people) scoring at least this similarity,
    from the atlas's calibration; ``None`` when the atlas is not calibrated."""
    estimated_fmr_upper: float | None = None
    """95% upper bound of ``estimated_fmr``."""
    score: float | None = None
    """The fair score (``similarity`` less the stricter region offset of the two faces) that
    the threshold and the error estimates apply to; ``None`` when fair scoring is off."""
    estimated_fpir: FpirEstimate | None = None
    """Chance that a search of someone not in this atlas (at its current size) returns a
    candidate scoring at least this much: the false-candidate rate per search (FPIR)."""
    span: FaceSpan | None = None
    """When the face is on screen, for a face track of a video."""

    @property
    def decision_score(self) -> float:
        """What the threshold applies to: the fair score, else the similarity."""
        return self.similarity if self.score is None else self.score

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "face_id": self.face_id,
            "similarity": round(self.similarity, 4),
            "estimated_fmr": _sig(self.estimated_fmr),
            "estimated_fmr_upper": _sig(self.estimated_fmr_upper),
            "score": None if self.score is None else round(self.score, 4),
            "estimated_fpir": None
            if self.estimated_fpir is None
            else self.estimated_fpir.as_dict(),
            "box": self.box.as_dict(),
            "quality": self.quality.as_dict(),
            "image": image_dict(self.image),
            "video": None if self.span is None else self.span.as_dict(),
            "sightings": [
                {**sighting_dict(s), "at_time_url": link_at_time(s.locator, self.span)}
                for s in self.sightings
            ],
        }


def image_dict(image: ImageRecord) -> dict[str, Any]:
    """A stored image as results show it: id, content hash, size and format."""
    return picked(image, "id", "sha256", "width", "height", "format")


def sighting_dict(s: SightingRecord, *, last_modified: bool = True) -> dict[str, Any]:
    """Where an image was seen, as results show it; ``last_modified`` keeps the
    ``Last-Modified`` date its server gave (``http_last_modified``)."""
    out: dict[str, Any] = {
        "source_kind": s.source_kind,
        "locator": s.locator,
        "page_url": s.page_url or None,
        "page_title": s.page_title,
        "alt_text": s.alt_text,
        "caption": s.caption,
    }
    if last_modified:
        out["http_last_modified"] = s.http_last_modified
    out["first_seen"] = s.first_seen
    out["last_seen"] = s.last_seen
    return out


def _sig(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.3g}")


@record
class SearchResult:
    model_id: str
    probe_faces: tuple[ProbeFace, ...]
    selected: int
    threshold: float
    threshold_source: str
    hits: tuple[Hit, ...]
    gallery_size: int = 0
    """Faces searched (the atlas's size)."""
    threshold_fpir: FpirEstimate | None = None
    """Chance that a search of someone not in the atlas returns any candidate at the
    threshold in force, at this atlas's size."""
    fair_scoring: bool = False
    probe_quality: ProbeVerdict = PASS
    """The probe quality gate's verdict on the searched face: ``warn`` with its reasons when
    the leads are weaker than usual (a refused probe raises instead)."""
    probe_tracks: tuple[ProbeTrack, ...] = ()
    """A video probe's face tracks (``selected`` is the searched one; ``probe_faces`` are
    their best frames); empty for a photo."""
    frames_searched: int = 1
    """Probe frames the scores are the mean over (a video probe's track's best frames)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "probe_faces": [f.as_dict() for f in self.probe_faces],
            "selected_face": self.selected,
            "threshold": round(self.threshold, 4),
            "threshold_source": self.threshold_source,
            "fair_scoring": self.fair_scoring,
            "probe_quality": self.probe_quality.as_dict(),
            "gallery_size": self.gallery_size,
            "threshold_fpir": None
            if self.threshold_fpir is None
            else self.threshold_fpir.as_dict(),
            **self._video_dict(),
            "hits": [h.as_dict() for h in self.hits],
        }

    def _video_dict(self) -> dict[str, Any]:
        if not self.probe_tracks:
            return {}
        return {
            "probe_tracks": [t.as_dict() for t in self.probe_tracks],
            "frames_searched": self.frames_searched,
        }
