"""Videos among the images a source yields: which files a walk picks up, a video's name
checked against its content, and what an ingest report counts for videos.

A video is analysed where an image is (:class:`~faceatlas.ingest.worker.Analyzer` sniffs the
bytes); its face tracks become faces of one stored item whose format is the container's
(``mp4``, ``matroska``), each with its time span (:class:`~faceatlas.types.FaceSpan`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from faceatlas.engine.clip import ClipFacts
from faceatlas.engine.video import VIDEO_SUFFIXES, Stop, looks_like_video
from faceatlas.errors import NotAVideoError

__all__ = ["VIDEO_SUFFIXES", "check_video_name", "count_video", "named_as_video"]


def _suffix(locator: str) -> str:
    path = urlsplit(locator).path if "://" in locator else locator
    return PurePosixPath(path).suffix.lower()


def named_as_video(locator: str) -> bool:
    """Whether a file path or URL (its path, query left out) ends in a video suffix."""
    return _suffix(locator) in VIDEO_SUFFIXES


def check_video_name(locator: str, data: bytes) -> None:
    """``not_a_video`` when ``locator`` is named as a video but ``data`` is no video
    container: a hostile or mislabelled file is refused as what it claims to be."""
    if named_as_video(locator) and not looks_like_video(data[:16]):
        raise NotAVideoError(
            f"named as a video ({_suffix(locator)}) but the content is no MP4, MOV, MKV or "
            "WebM container"
        )


def count_video(counts: Counter[str], facts: ClipFacts | None) -> None:
    """Count an analysed video: ``videos``, ``video_frames`` (frames analysed),
    ``video_seconds`` (seconds covered, rounded down) and ``video_budget:duration`` or
    ``video_budget:frames`` when a budget ended its analysis early."""
    if facts is None:
        return
    counts["videos"] += 1
    counts["video_frames"] += facts.frames_analysed
    counts["video_seconds"] += int(facts.duration_s)
    if facts.stop is not Stop.END:
        counts[f"video_budget:{facts.stop.value}"] += 1
