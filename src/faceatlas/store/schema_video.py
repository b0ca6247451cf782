"""Video tables (migration 9): when each face track of a video is on screen."""

from __future__ import annotations

import sqlalchemy as sa

from faceatlas.store.columns import metadata, owner

__all__ = ["face_spans"]

face_spans = sa.Table(
    "face_spans",
    metadata,
    owner("face_id", "faces", primary_key=True),
    sa.Column("start_s", sa.Float, nullable=False),
    sa.Column("end_s", sa.Float, nullable=False),
    sa.Column("best_s", sa.Float, nullable=False),
    sa.Column("frames", sa.Integer, nullable=False),
)
"""A face of a video is one face track: the seconds (from the video's first frame) of the
first and last sampled frames it was seen in, of the frame its embedding and thumbnail come
from, and how many sampled frames it was seen in. The span belongs to the face, so every
sighting of the video (each file or URL it was found at) shows the face at the same times;
it goes when the face goes."""
