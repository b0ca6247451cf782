"""Reading the time spans of video face tracks (the ``face_spans`` table)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import record_from, rows_in
from faceatlas.types import FaceSpan

__all__ = ["spans_of"]


def spans_of(conn: sa.Connection, face_ids: Sequence[int]) -> dict[int, FaceSpan]:
    """The spans of those of ``face_ids`` that are face tracks of a video, by face id."""
    query = sa.select(t.face_spans)
    return {
        int(r.face_id): record_from(FaceSpan, r)
        for r in rows_in(conn, query, t.face_spans.c.face_id, face_ids)
    }
