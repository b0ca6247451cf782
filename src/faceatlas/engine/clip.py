"""Video in, face tracks out: sample frames (:mod:`~faceatlas.engine.video`), analyse each
(detect, align, embed, measure, thumbnail) and join the faces into tracks
(:mod:`~faceatlas.engine.tracking`).

One appearance becomes one face: the track's best frame by
:func:`~faceatlas.engine.tracking.frame_quality`, whose embedding and thumbnail are that
frame's own. A stored video face is therefore exactly what a stored photo face is (one
single-image embedding, on the scale every threshold and calibration of the model was
measured on), and the thumbnail a result shows is the face that matched. The track's other
best frames are what a video *probe* searches with.
"""

from __future__ import annotations

from typing import ClassVar

from faceatlas.engine.analyze import analyze_faces
from faceatlas.engine.card import card_of
from faceatlas.engine.protocol import FaceEngine
from faceatlas.engine.tracking import FaceTrack, FaceTracker, TrackRules
from faceatlas.engine.video import Stop, VideoLimits, VideoSampler
from faceatlas.types import JsonRecord, record

__all__ = ["ClipAnalysis", "ClipFacts", "analyze_clip"]


@record
class ClipFacts(JsonRecord):
    """What analysing a video cost and covered: seconds up to the last frame decoded,
    frames decoded and analysed, the interval between steady samples and why it stopped
    (``end``, or the ``duration`` or ``frames`` budget)."""

    duration_s: float
    frames_decoded: int
    frames_analysed: int
    interval_s: float
    stop: Stop

    DIGITS: ClassVar[int] = 3


@record
class ClipAnalysis:
    width: int
    height: int
    format: str
    facts: ClipFacts
    tracks: tuple[FaceTrack, ...]


def analyze_clip(
    engine: FaceEngine, data: bytes, limits: VideoLimits, *, thumbnail_px: int
) -> ClipAnalysis:
    """The face tracks of the video ``data``, within ``limits``.

    Raises :class:`~faceatlas.errors.NotAVideoError`,
    :class:`~faceatlas.errors.VideoDecodeError` or
    :class:`~faceatlas.errors.ImageTooLargeError` for bad input; never anything else for
    bad bytes.
    """
    with VideoSampler(data, limits) as video:
        tracker = FaceTracker(TrackRules.for_card(card_of(engine), video.interval_s))
        for frame in video:
            faces = analyze_faces(engine, frame.pixels, thumbnail_px=thumbnail_px)
            tracker.add(frame.time_s, faces, cut=frame.cut)
        facts = ClipFacts(
            duration_s=video.last_s,
            frames_decoded=video.decoded,
            frames_analysed=video.sampled,
            interval_s=video.interval_s,
            stop=video.stop,
        )
        return ClipAnalysis(video.width, video.height, video.format, facts, tuple(tracker.finish()))
