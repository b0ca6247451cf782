"""Short real video clips made with PyAV from the shared LFW photos: people one after another,
each filmed by a slowly panning camera, small frames and a low frame rate so encoding takes
milliseconds."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image

__all__ = ["CLIP_PEOPLE", "encode", "people_in_turn", "photo_frames"]

CLIP_PEOPLE = ("Colin_Powell", "Tony_Blair", "George_W_Bush")
"""Who the people-in-turn clip shows, in order (their first LFW photo each)."""


def photo_frames(photo: Path, count: int, side: int) -> Iterator[np.ndarray]:
    """``count`` frames of ``photo`` as a camera panning slowly across it, ``side`` px square."""
    with Image.open(photo) as img:
        rgb = img.convert("RGB")
    views = [  # a pixel a frame, then back
        np.asarray(
            rgb.crop((4 + i, 12, 224 + i, 232)).resize((side, side), Image.Resampling.BILINEAR),
            dtype=np.uint8,
        )
        for i in range(min(count, 12))
    ]
    for i in range(count):
        yield views[i % len(views)]


def encode(frames: Iterable[np.ndarray], fps: int, *, container: str = "mp4") -> bytes:
    """Frames encoded as H.264 in MP4 (``container="mp4"``) or VP8 in WebM (``"webm"``)."""
    out = io.BytesIO()
    codec = "libx264" if container == "mp4" else "libvpx"
    with av.open(out, mode="w", format=container) as video:
        stream = video.add_stream(codec, rate=fps)
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        for i, pixels in enumerate(frames):
            if i == 0:
                stream.height, stream.width = pixels.shape[:2]
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                video.mux(packet)
        for packet in stream.encode():
            video.mux(packet)
    return out.getvalue()


def people_in_turn(
    faces_dir: Path,
    people: Sequence[str] = CLIP_PEOPLE,
    *,
    seconds: int = 3,
    fps: int = 4,
    side: int = 160,
    photo: int = 1,
    container: str = "mp4",
) -> bytes:
    """A clip of ``people`` one after another, ``seconds`` each: person ``i`` is on screen
    from ``i * seconds`` to ``(i + 1) * seconds``."""

    def frames() -> Iterator[np.ndarray]:
        for person in people:
            path = faces_dir / "lfw" / "images" / person / f"{person}_{photo:04d}.jpg"
            yield from photo_frames(path, seconds * fps, side)

    return encode(frames(), fps, container=container)
