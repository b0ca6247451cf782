"""The video settings (``FACEATLAS_VIDEO_*``), a group that :class:`faceatlas.config.Settings`
takes in: how video frames are sampled and how much of a video is analysed
(docs/video.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from faceatlas.config_types import Count, Seconds

__all__ = ["VideoSettings"]


class VideoSettings(BaseModel):
    video_sample_fps: float = Field(
        default=1.0, gt=0, le=30, description="Video frames analysed per second (plus cuts)."
    )
    video_scene_change: float = Field(
        default=0.1, ge=0, le=1, description="Grey-level change (0-1) that is a scene cut; 1: off."
    )
    video_max_duration_s: Seconds = Field(
        default=600.0, le=86400, description="Seconds of each video analysed at most."
    )
    video_max_frames: Count = Field(
        default=300, le=100_000, description="Frames of each video analysed at most."
    )
    video_probe_max_duration_s: Seconds = Field(
        default=60.0, le=3600, description="Seconds of a probe clip analysed at most."
    )
