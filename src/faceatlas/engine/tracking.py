"""Face tracks: the faces of a video's sampled frames joined into appearances.

A face found in a frame continues a track when

* its embedding is the track's face at the model's *same-face* similarity (the card's
  ``same_face_min_similarity``: what a re-encoded copy of the same photo scores), wherever
  it is in the frame and across scene changes; or
* its box overlaps the track's last box (IoU at least :data:`MIN_IOU`) with no scene change
  in between, and its embedding is at least a *neighbour* of the track's face (the card's
  ``identity_min_similarity``, the similarity at which identity clustering calls two faces
  neighbours): a person moving, turning or changing expression between samples.

Pairs are matched greedily, most similar first, one face per track. A track not seen for
longer than its gap (two and a half sampling intervals: one missed detection is bridged)
ends; a face that continues none starts a new track. Each track keeps its best frames by
:func:`frame_quality`, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from faceatlas.engine.card import ModelCard
from faceatlas.types import AnalyzedFace, Box, FaceQuality, FaceSpan, Vector, record

__all__ = [
    "BEST_FRAMES",
    "MIN_IOU",
    "FaceTrack",
    "FaceTracker",
    "TrackRules",
    "frame_quality",
]

MIN_IOU = 0.3
"""Box overlap (intersection over union) at which a face is where the track's face was."""
BEST_FRAMES = 5
"""Frames each track keeps (its best by :func:`frame_quality`): what a video probe searches
with, and the stored face's frame (the first of them)."""
GAP_INTERVALS = 2.5
"""A track ends once unseen for this many sampling intervals."""
_CHIP_PX = 112
"""Face size (pixels) beyond which a larger face adds nothing: the aligned chip's side."""
_SHARP = 100.0
"""Sharpness (Laplacian variance) beyond which a sharper face adds nothing."""


def frame_quality(q: FaceQuality) -> float:
    """How good a frame of a face is to keep: frontal, confidently detected, large (up to
    the aligned chip's size) and sharp. 0 to 1; comparable within one engine."""
    size = min(q.box_px, _CHIP_PX) / _CHIP_PX
    sharp = min(q.sharpness, _SHARP) / _SHARP
    return float(q.frontal * max(q.detector_score, 0.0) * size * sharp)


@record
class TrackRules:
    same_face_min_similarity: float
    neighbour_min_similarity: float
    max_gap_s: float
    keep_best: int = BEST_FRAMES

    @classmethod
    def for_card(cls, card: ModelCard, interval_s: float) -> TrackRules:
        """The rules for ``card``'s model and a sampling interval of ``interval_s`` seconds.
        A model that states no neighbour similarity joins by position only at its same-face
        similarity."""
        same = card.required("same_face_min_similarity")
        near = card.identity_min_similarity
        return cls(
            same_face_min_similarity=same,
            neighbour_min_similarity=same if near is None else min(float(near), same),
            max_gap_s=GAP_INTERVALS * interval_s,
        )


@record
class FaceTrack:
    """One appearance: the face to store (its best frame, with the track's span), and the
    best frames, best first (``best[0]`` is ``face`` without the span)."""

    face: AnalyzedFace
    best: tuple[AnalyzedFace, ...]
    best_times_s: tuple[float, ...]

    @property
    def span(self) -> FaceSpan:
        assert self.face.span is not None
        return self.face.span


@dataclass(slots=True)
class _Open:
    start_s: float
    last_s: float
    last_box: Box
    last_embedding: Vector
    frames: int = 1
    best: list[tuple[float, float, AnalyzedFace]] = field(default_factory=list)

    def keep(self, time_s: float, face: AnalyzedFace, most: int) -> None:
        self.best.append((frame_quality(face.quality), time_s, face))
        self.best.sort(key=lambda b: (-b[0], b[1]))
        del self.best[most:]


class FaceTracker:
    """Feed it each sampled frame's faces in time order; :meth:`finish` returns the tracks."""

    def __init__(self, rules: TrackRules) -> None:
        self.rules = rules
        self._open: list[_Open] = []
        self._done: list[_Open] = []

    def add(self, time_s: float, faces: list[AnalyzedFace], *, cut: bool) -> None:
        """The faces of the frame at ``time_s``; ``cut``: a scene change since the last one."""
        rules = self.rules
        for track in [t for t in self._open if time_s - t.last_s > rules.max_gap_s]:
            self._open.remove(track)
            self._done.append(track)
        pairs = self._pairs(faces, cut)
        taken_tracks: set[int] = set()
        taken_faces: set[int] = set()
        for _, ti, fi in pairs:
            if ti in taken_tracks or fi in taken_faces:
                continue
            taken_tracks.add(ti)
            taken_faces.add(fi)
            track, face = self._open[ti], faces[fi]
            track.last_s, track.last_box = time_s, face.box
            track.last_embedding = face.embedding
            track.frames += 1
            track.keep(time_s, face, rules.keep_best)
        for fi, face in enumerate(faces):
            if fi not in taken_faces:
                new = _Open(time_s, time_s, face.box, face.embedding)
                new.keep(time_s, face, rules.keep_best)
                self._open.append(new)

    def _pairs(self, faces: list[AnalyzedFace], cut: bool) -> list[tuple[float, int, int]]:
        """``(similarity, track, face)`` of every allowed pair, most similar first."""
        if not faces or not self._open:
            return []
        rules = self.rules
        sims = (
            np.stack([t.last_embedding for t in self._open])
            @ np.stack([f.embedding for f in faces]).T
        )
        pairs: list[tuple[float, int, int]] = []
        for ti, track in enumerate(self._open):
            for fi, face in enumerate(faces):
                sim = float(sims[ti, fi])
                same = sim >= rules.same_face_min_similarity
                moved = (
                    not cut
                    and sim >= rules.neighbour_min_similarity
                    and track.last_box.iou(face.box) >= MIN_IOU
                )
                if same or moved:
                    pairs.append((sim, ti, fi))
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        return pairs

    def finish(self) -> list[FaceTrack]:
        """Every track, in order of first appearance (then of position in the frame)."""
        tracks = self._done + self._open
        self._open, self._done = [], []
        tracks.sort(key=lambda t: (t.start_s, t.best[0][2].box.left, t.best[0][2].box.top))
        out = []
        for t in tracks:
            best_face, best_s = t.best[0][2], t.best[0][1]
            span = FaceSpan(t.start_s, t.last_s, best_s, t.frames)
            out.append(
                FaceTrack(
                    face=replace(best_face, span=span),
                    best=tuple(b[2] for b in t.best),
                    best_times_s=tuple(b[1] for b in t.best),
                )
            )
        return out
