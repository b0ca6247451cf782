"""Safe video decoding: sniffed containers, bounded work, frames sampled at a steady rate
plus scene changes.

Only two container families are read: ISO base media (MP4, MOV, M4V) and Matroska (MKV,
WebM). The container is told to FFmpeg from the sniffed header, so no other demuxer (a
playlist that would fetch URLs, a concat list that would open files) ever sees the bytes.
Work is bounded before and while decoding: frame pixels against ``max_pixels`` before the
first frame is decoded, seconds of video against ``max_duration_s``, frames analysed against
``max_frames`` (the steady rate stretches so that a long video is covered end to end within
the budget) and frames decoded against :data:`MAX_DECODE_FPS` per second of budget. A file
that cannot be read through to its declared end is refused (``video_decode_error``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import av
import numpy as np

from faceatlas.config import Settings
from faceatlas.errors import ImageTooLargeError, NotAVideoError, VideoDecodeError
from faceatlas.types import Closing, RGBImage, record

__all__ = [
    "MAX_DECODE_FPS",
    "VIDEO_SUFFIXES",
    "SampledFrame",
    "Stop",
    "VideoLimits",
    "VideoSampler",
    "looks_like_video",
    "video_container",
]

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv"})
"""File names a folder walk picks up as videos (the content is sniffed all the same)."""
MAX_DECODE_FPS = 240
"""Frames decoded per second of the duration budget at most, whatever the file claims."""
SCENE_SIDE = 32
"""Side of the grey thumbnail two consecutive frames are compared on."""
SCENE_SHARE = 4
"""One frame in this many of the frame budget is kept for scene changes."""
MIN_SCENE_GAP_S = 0.2
"""Scene changes closer than this to the previous sampled frame are not sampled again."""
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")
_EBML = b"\x1a\x45\xdf\xa3"
_FORMATS = {"mov": "mp4", "matroska": "matroska"}
"""FFmpeg demuxer -> the format name stored for the video."""


def video_container(head: bytes) -> str | None:
    """The FFmpeg demuxer for a file starting with ``head`` (``mov`` or ``matroska``), or
    ``None`` when it is no video container FaceAtlas reads."""
    if head[:4] == _EBML:
        return "matroska"
    if len(head) >= 8 and head[4:8] in _ISO_BOXES:
        return "mov"
    return None


def looks_like_video(head: bytes) -> bool:
    """Whether ``head`` (the first 8 bytes or more) starts an MP4/MOV or Matroska/WebM file."""
    return video_container(head) is not None


@record
class VideoLimits:
    """The work one video may cost (the settings of the same names, ``video_*``)."""

    sample_fps: float = 1.0
    scene_change: float = 0.1
    max_duration_s: float = 600.0
    max_frames: int = 300
    max_pixels: int = 40_000_000

    @classmethod
    def from_settings(cls, settings: Settings, *, probe: bool = False) -> VideoLimits:
        """Ingest limits, or with ``probe`` those of a probe clip (its own duration budget)."""
        duration = settings.video_probe_max_duration_s if probe else settings.video_max_duration_s
        return cls(
            sample_fps=settings.video_sample_fps,
            scene_change=settings.video_scene_change,
            max_duration_s=duration,
            max_frames=settings.video_max_frames,
            max_pixels=settings.max_pixels,
        )


class Stop(StrEnum):
    """Why sampling ended: the end of the video, or a budget."""

    END = "end"
    DURATION = "duration"
    FRAMES = "frames"


@record
class SampledFrame:
    """A frame to analyse: its time (seconds from the first frame), its pixels, and whether a
    scene change happened since the previous sampled frame."""

    time_s: float
    pixels: RGBImage
    cut: bool


class VideoSampler(Closing):
    """Opens a video from its bytes and yields the frames to analyse, within ``limits``.

    Raises :class:`NotAVideoError` for bytes that are no video container,
    :class:`ImageTooLargeError` for frames over the pixel limit and
    :class:`VideoDecodeError` for anything unreadable, also midway through.
    """

    def __init__(self, data: bytes, limits: VideoLimits) -> None:
        demuxer = video_container(data[:16])
        if demuxer is None:
            raise NotAVideoError("not an MP4, MOV, MKV or WebM video")
        self.limits = limits
        self.format = _FORMATS[demuxer]
        try:
            self._container: Any = av.open(io.BytesIO(data), mode="r", format=demuxer)
        except (av.FFmpegError, ValueError, OSError, EOFError, MemoryError) as exc:
            raise VideoDecodeError(f"unreadable video container: {_reason(exc)}") from None
        try:
            streams = self._container.streams.video
            if not streams:
                raise VideoDecodeError("the file holds no video stream")
            self._stream = streams[0]
            self.width = int(self._stream.codec_context.width or 0)
            self.height = int(self._stream.codec_context.height or 0)
            if self.width <= 0 or self.height <= 0:
                raise VideoDecodeError("the video stream states no frame size")
            if self.width * self.height > limits.max_pixels:
                raise ImageTooLargeError(
                    f"video frames are {self.width}x{self.height}, over the limit of "
                    f"{limits.max_pixels} pixels"
                )
            self.declared_s = self._declared_duration()
        except BaseException:
            self._container.close()
            raise
        horizon = min(self.declared_s or limits.max_duration_s, limits.max_duration_s)
        scene_budget = limits.max_frames // SCENE_SHARE if limits.scene_change < 1 else 0
        self.scene_budget = scene_budget
        self.interval_s = max(
            1.0 / limits.sample_fps, horizon / max(1, limits.max_frames - scene_budget)
        )
        """Seconds between steady samples: the sampling rate, stretched to fit the budget."""
        self.decoded = 0
        self.sampled = 0
        self.last_s = 0.0
        self.stop = Stop.END

    def _declared_duration(self) -> float | None:
        """The video stream's duration, else the container's when it holds nothing else."""
        s = self._stream
        if s.duration is not None and s.time_base is not None:
            return float(s.duration * s.time_base)
        if self._container.duration is not None and len(self._container.streams) == 1:
            return float(self._container.duration) / 1_000_000
        return None

    def close(self) -> None:
        self._container.close()

    def frame_at(self, time_s: float) -> RGBImage:
        """The frame shown at ``time_s`` (seconds from the first frame, as sampled frames
        are timed): the first decoded at or after it. Decodes at most :data:`MAX_DECODE_FPS`
        frames per second up to ``time_s``."""
        first: float | None = None
        most = math.ceil((max(time_s, 0.0) + 1.0) * MAX_DECODE_FPS)
        try:
            for frame in self._container.decode(self._stream):
                self.decoded += 1
                at = frame.time if frame.time is not None else 0.0
                first = at if first is None else first
                if float(at - first) >= time_s - 1e-3 or self.decoded >= most:
                    return np.ascontiguousarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        except (av.FFmpegError, ValueError, OSError, EOFError, MemoryError) as exc:
            raise VideoDecodeError(f"video unreadable: {_reason(exc)}") from None
        raise VideoDecodeError(f"the video has no frame at {time_s:.2f} s")

    def __iter__(self) -> Iterator[SampledFrame]:
        try:
            yield from self._sample()
        except (av.FFmpegError, ValueError, OSError, EOFError, MemoryError) as exc:
            raise VideoDecodeError(
                f"video unreadable after {self.last_s:.1f} s: {_reason(exc)}"
            ) from None
        if self.decoded == 0:
            raise VideoDecodeError("no frame of the video could be decoded")
        if self.stop is Stop.END and self._cut_short():
            raise VideoDecodeError(
                f"truncated video: frames end at {self.last_s:.1f} s of a declared "
                f"{self.declared_s:.1f} s"
            )

    def _cut_short(self) -> bool:
        if self.declared_s is None:
            return False
        return self.last_s + max(1.0, 0.05 * self.declared_s) < self.declared_s

    def _sample(self) -> Iterator[SampledFrame]:
        limits = self.limits
        max_decoded = math.ceil(limits.max_duration_s * MAX_DECODE_FPS)
        rate = float(self._stream.average_rate or 25)
        first: float | None = None
        previous: np.ndarray[Any, np.dtype[np.float32]] | None = None
        due = 0.0
        last_taken = -math.inf
        scenes = 0
        cut_pending = False
        for frame in self._container.decode(self._stream):
            if self.decoded >= max_decoded:
                self.stop = Stop.DURATION
                return
            self.decoded += 1
            at = frame.time if frame.time is not None else (self.decoded - 1) / rate
            first = at if first is None else first
            t = float(at - first)
            if t > limits.max_duration_s:
                self.stop = Stop.DURATION
                return
            self.last_s = max(self.last_s, t)
            small = frame.to_ndarray(width=SCENE_SIDE, height=SCENE_SIDE, format="gray")
            grey = small.astype(np.float32) / 255.0
            cut = previous is not None and float(np.abs(grey - previous).mean()) >= (
                limits.scene_change
            )
            previous = grey
            cut_pending = cut_pending or cut
            steady = t >= due
            scene = cut and scenes < self.scene_budget and t - last_taken >= MIN_SCENE_GAP_S
            if not (steady or scene):
                continue
            if self.sampled >= limits.max_frames:
                self.stop = Stop.FRAMES
                return
            pixels = np.ascontiguousarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            yield SampledFrame(t, pixels, cut_pending)
            self.sampled += 1
            cut_pending = False
            last_taken = t
            if steady:
                due = (math.floor(t / self.interval_s) + 1) * self.interval_s
            else:
                scenes += 1


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)[:200]
