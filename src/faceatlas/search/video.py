"""Video probes: a short clip's face tracks, listed for the user to pick one, and the picked
track's best frames (at most :data:`~faceatlas.engine.tracking.BEST_FRAMES`) as the probe.

Every best frame passes the probe quality gate on its own; frames the gate refuses are left
out, a track with no frame left is refused like a poor photo (``probe_quality``), and the
result carries the verdict of the best frame kept.

Each stored face is scored against every frame exactly as a photo search scores one probe
(the fair score with both faces' region offsets, or the cosine similarity when fair scoring
is off), and its score is the **mean** over the frames
(:func:`~faceatlas.search.candidates.rank_candidates`). The threshold and the false-match and
false-candidate estimates apply to that mean unchanged, and stay calibrated (conservative):

* the mean reaches a threshold only if at least one frame's score does, so a stranger passes
  no more often than with one frame of ``k`` (at most ``k`` times the per-frame rate);
* a stranger's scores against frames of one face are draws from the same impostor
  distribution, strongly correlated; their mean has the same centre and a narrower spread, so
  above that centre (where every threshold sits) it passes *less* often than one frame.
  ``benchmarks/video_ingest.py`` measures it on held-out photos: the mean over 3 photos of a
  person passes the threshold for strangers less often than the first photo alone.

The candidates are the union of every frame's nearest neighbours, so a face whose mean
reaches the threshold is among them (one of its frame scores reaches it too).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from faceatlas.engine.clip import ClipAnalysis
from faceatlas.engine.probe_gate import ProbeFloors, ProbeVerdict, Verdict, assess_probe
from faceatlas.errors import InvalidRequestError, NoFaceError, ProbeQualityError
from faceatlas.search.results import ProbeFace, ProbeTrack

__all__ = ["TrackProbe", "pick_track", "probe_tracks"]


def probe_tracks(clip: ClipAnalysis) -> list[ProbeTrack]:
    """The clip's face tracks in order of first appearance, as a user picks from them."""
    return [
        ProbeTrack(i, t.span, t.face.box, t.face.quality, t.face.thumbnail_jpeg)
        for i, t in enumerate(clip.tracks)
    ]


class TrackProbe:
    """The picked track of a clip: its frames to search with and the gate's verdict."""

    def __init__(self, clip: ClipAnalysis, track: int | None, floors: ProbeFloors | None) -> None:
        self.tracks = probe_tracks(clip)
        self.selected = pick_track(clip, track)
        frames = clip.tracks[self.selected].best
        verdicts = [assess_probe(f.quality, floors) for f in frames]
        kept = [
            (f, v) for f, v in zip(frames, verdicts, strict=True) if v.verdict is not Verdict.REFUSE
        ]
        if not kept:
            raise ProbeQualityError(
                f"track {self.selected} is too poor to search: " + "; ".join(verdicts[0].reasons)
            )
        self.vectors: np.ndarray[Any, np.dtype[np.float32]] = np.stack(
            [f.embedding for f, _ in kept]
        ).astype(np.float32)
        self.verdict: ProbeVerdict = kept[0][1]

    @property
    def probe_faces(self) -> list[ProbeFace]:
        """Each track's best frame, as a photo probe's faces are listed."""
        return [ProbeFace(t.index, t.box, t.quality) for t in self.tracks]


def pick_track(clip: ClipAnalysis, track: int | None) -> int:
    """``track``, checked; by default the track seen in the most frames (the first of
    those). ``no_face`` for a clip without a face."""
    tracks = clip.tracks
    if not tracks:
        raise NoFaceError("no face found in the clip")
    if track is None:
        return max(range(len(tracks)), key=lambda i: (tracks[i].span.frames, -i))
    if not 0 <= track < len(tracks):
        raise InvalidRequestError(
            f"track {track} does not exist; the clip has {len(tracks)} face track(s)"
        )
    return track
