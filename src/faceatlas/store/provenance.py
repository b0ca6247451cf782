"""Catalog access for web ingestion: content hashes, near-duplicates and checkpoints."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import record_from, upsert, utc_now, values_of
from faceatlas.types import Vector, record

__all__ = [
    "ContentHash",
    "add_content_hash",
    "face_vectors",
    "image_for_content",
    "iter_content_hashes",
    "read_checkpoint",
    "write_checkpoint",
]


@record
class ContentHash:
    image_id: int
    sha256: str
    phash: int | None
    width: int
    height: int
    byte_size: int
    distance: int


_IMAGE_BY_SHA = sa.select(t.images.c.id).where(t.images.c.sha256 == sa.bindparam("sha256"))
_IMAGE_BY_COPY_SHA = sa.select(t.image_hashes.c.image_id).where(
    t.image_hashes.c.sha256 == sa.bindparam("sha256")
)
"""Built once: ingest asks for every item it reads."""


def image_for_content(conn: sa.Connection, sha256: str) -> int | None:
    """The image holding these exact bytes: as its original or as a folded copy."""
    row = conn.execute(_IMAGE_BY_SHA, {"sha256": sha256}).first()
    if row is None:
        row = conn.execute(_IMAGE_BY_COPY_SHA, {"sha256": sha256}).first()
    return None if row is None else int(row[0])


def face_vectors(conn: sa.Connection, image_id: int, model_id: str) -> list[Vector]:
    """The embeddings (``float32 (dim,)``) of an image's stored faces for one model."""
    rows = conn.execute(
        sa.select(t.embeddings.c.vector)
        .join(t.faces, t.faces.c.id == t.embeddings.c.face_id)
        .where(t.faces.c.image_id == image_id, t.embeddings.c.model_id == model_id)
        .order_by(t.faces.c.ordinal)
    ).all()
    return [np.frombuffer(r[0], dtype=np.float32) for r in rows]


def add_content_hash(conn: sa.Connection, h: ContentHash) -> None:
    conn.execute(t.image_hashes.insert(), {**values_of(h), "created_at": utc_now()})


def iter_content_hashes(db: sa.Engine, *, batch: int = 50_000) -> Iterator[ContentHash]:
    """Every stored hash with a perceptual hash, in id order (to seed the near-duplicate index)."""
    last = 0
    while True:
        with db.connect() as conn:
            rows = conn.execute(
                sa.select(t.image_hashes)
                .where(t.image_hashes.c.id > last, t.image_hashes.c.phash.is_not(None))
                .order_by(t.image_hashes.c.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        last = int(rows[-1].id)
        for r in rows:
            yield record_from(ContentHash, r)


def read_checkpoint(db: sa.Engine, source_id: int, fingerprint: str) -> int:
    """Items already committed for this source, or 0 when its content changed since."""
    with db.connect() as conn:
        row = conn.execute(
            sa.select(t.ingest_checkpoints.c.fingerprint, t.ingest_checkpoints.c.items_done).where(
                t.ingest_checkpoints.c.source_id == source_id
            )
        ).first()
    if row is None or row[0] != fingerprint:
        return 0
    return int(row[1])


def write_checkpoint(
    conn: sa.Connection, source_id: int, fingerprint: str, items_done: int
) -> None:
    values = {"fingerprint": fingerprint, "items_done": items_done, "updated_at": utc_now()}
    upsert(conn, t.ingest_checkpoints, {"source_id": source_id}, values)
