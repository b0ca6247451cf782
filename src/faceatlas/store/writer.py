"""Catalog writes: everything an ingest, re-embed or erasure changes, in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import field
from typing import Any

import numpy as np
import sqlalchemy as sa

from faceatlas.store import provenance
from faceatlas.store import schema as t
from faceatlas.store.columns import box_values, quality_values
from faceatlas.store.ids import FreshIds
from faceatlas.store.provenance import ContentHash
from faceatlas.store.rows import chunks, new_id, upsert, utc_now, values_of
from faceatlas.types import AnalyzedFace, Vector, is_web_url, record

__all__ = ["CatalogWriter", "NewSighting", "Provenance"]


@record
class Provenance:
    """Where an image was seen: ``locator`` is the absolute file path or the image URL, the
    page fields say where it stood on the web, and a file's size and mtime let an unchanged
    file be skipped without reading it again."""

    locator: str
    page_url: str = ""
    page_title: str | None = None
    alt_text: str | None = None
    caption: str | None = None
    http_last_modified: str | None = None
    file_size: int | None = None
    file_mtime_ns: int | None = None


@record
class NewSighting(Provenance):
    """Where an image was seen, as written by an ingester: its provenance and its source."""

    source_id: int = field(kw_only=True)


class CatalogWriter:
    """Writes inside one transaction (see :meth:`Catalog.writer`)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.ids = FreshIds(conn)

    def close(self) -> None:
        """Finish the transaction's writes (the ids given out); ``Catalog.writer`` calls it."""
        self.ids.flush()

    def set_meta(self, key: str, value: str) -> None:
        upsert(self.conn, t.atlas_meta, {"key": key}, {"value": value})

    def image_id_for_sha(self, sha256: str) -> int | None:
        row = self.conn.execute(sa.select(t.images.c.id).where(t.images.c.sha256 == sha256)).first()
        return None if row is None else int(row[0])

    def ensure_source(self, kind: str, locator: str) -> int:
        row = self.conn.execute(
            sa.select(t.sources.c.id).where(
                t.sources.c.kind == kind, t.sources.c.locator == locator
            )
        ).first()
        if row is not None:
            return int(row[0])
        result = self.conn.execute(
            t.sources.insert().values(kind=kind, locator=locator, created_at=utc_now())
        )
        return new_id(result)

    def start_run(self, source_id: int) -> int:
        result = self.conn.execute(
            t.ingest_runs.insert().values(
                source_id=source_id, started_at=utc_now(), status="running"
            )
        )
        return new_id(result)

    def finish_run(self, run_id: int, status: str, counts: dict[str, int]) -> None:
        self.conn.execute(
            t.ingest_runs.update()
            .where(t.ingest_runs.c.id == run_id)
            .values(finished_at=utc_now(), status=status, counts=json.dumps(counts, sort_keys=True))
        )

    def add_image(
        self,
        *,
        sha256: str,
        byte_size: int,
        width: int,
        height: int,
        format: str,
        faces: Sequence[AnalyzedFace],
        model_id: str,
    ) -> tuple[int, list[tuple[int, int]]]:
        """Insert an image (or a video) with its faces, thumbnails and embeddings, and the
        time span of each face track of a video.

        Returns ``(image_id, [(face_id, embedding_id), ...])`` in face order.
        """
        now = utc_now()
        image_row = {
            "sha256": sha256,
            "byte_size": byte_size,
            "width": width,
            "height": height,
            "format": format,
            "face_count": len(faces),
            "created_at": now,
        }
        image_id = new_id(
            self.conn.execute(t.images.insert(), self.ids.with_id(t.images, image_row))
        )
        written: list[tuple[int, int]] = []
        for ordinal, face in enumerate(faces):
            face_row = {
                "image_id": image_id,
                "ordinal": ordinal,
                **box_values(face.box),
                "landmarks": json.dumps(
                    [[round(x, 2), round(y, 2)] for x, y in face.detection.landmarks]
                ),
                **quality_values(face.quality),
            }
            face_id = new_id(
                self.conn.execute(t.faces.insert(), self.ids.with_id(t.faces, face_row))
            )
            self.conn.execute(
                t.thumbnails.insert(),
                {"face_id": face_id, "jpeg": face.thumbnail_jpeg, "created_at": now},
            )
            if face.span is not None:
                self.conn.execute(
                    t.face_spans.insert().values(face_id=face_id, **values_of(face.span))
                )
            embedding_id = self.add_embedding(face_id, model_id, face.embedding)
            written.append((face_id, embedding_id))
        return image_id, written

    def add_embedding(
        self, face_id: int, model_id: str, vector: np.ndarray[Any, np.dtype[np.float32]]
    ) -> int:
        vec = np.ascontiguousarray(vector, dtype=np.float32)
        row = {
            "face_id": face_id,
            "model_id": model_id,
            "dim": int(vec.shape[0]),
            "vector": vec.tobytes(),
            "created_at": utc_now(),
        }
        return new_id(self.conn.execute(t.embeddings.insert(), row))

    def add_sighting(
        self, image_id: int, sighting: NewSighting, *, new_image: bool = False
    ) -> bool:
        """Record a sighting; an existing one (same image, locator, page) is refreshed.
        ``new_image``: the image was added in this transaction, so it has no sighting yet.

        Returns True when a new sighting row was created.
        """
        now = utc_now()
        page_url = sighting.page_url if is_web_url(sighting.page_url) else ""
        existing = None
        if not new_image:
            where = (
                (t.sightings.c.image_id == image_id)
                & (t.sightings.c.locator == sighting.locator)
                & (t.sightings.c.page_url == page_url)
            )
            existing = self.conn.execute(sa.select(t.sightings.c.id).where(where)).first()
        values = {
            "page_title": sighting.page_title,
            "alt_text": sighting.alt_text,
            "caption": sighting.caption,
            "http_last_modified": sighting.http_last_modified,
            "file_size": sighting.file_size,
            "file_mtime_ns": sighting.file_mtime_ns,
            "last_seen": now,
        }
        if existing is not None:
            self.conn.execute(
                t.sightings.update().where(t.sightings.c.id == existing[0]).values(**values)
            )
            return False
        row = {
            "image_id": image_id,
            "source_id": sighting.source_id,
            "locator": sighting.locator,
            "page_url": page_url,
            "first_seen": now,
            **values,
        }
        self.conn.execute(t.sightings.insert(), row)
        return True

    def record_failure(self, source_id: int, locator: str, code: str, message: str) -> None:
        upsert(
            self.conn,
            t.ingest_failures,
            {"source_id": source_id, "locator": locator},
            {"code": code, "message": message[:1000], "at": utc_now()},
        )

    def delete_faces(self, face_ids: Sequence[int]) -> int:
        """Delete faces with their embeddings, thumbnails and spans; returns how many faces
        existed."""
        deleted = 0
        for chunk in chunks(sorted({int(i) for i in face_ids})):
            self.conn.execute(t.face_spans.delete().where(t.face_spans.c.face_id.in_(chunk)))
            self.conn.execute(t.embeddings.delete().where(t.embeddings.c.face_id.in_(chunk)))
            self.conn.execute(t.thumbnails.delete().where(t.thumbnails.c.face_id.in_(chunk)))
            deleted += self.conn.execute(t.faces.delete().where(t.faces.c.id.in_(chunk))).rowcount
        return deleted

    def clear_failure(self, source_id: int, locator: str) -> None:
        self.conn.execute(
            t.ingest_failures.delete().where(
                (t.ingest_failures.c.source_id == source_id)
                & (t.ingest_failures.c.locator == locator)
            )
        )

    # --- content hashes and checkpoints (web provenance) ---------------------------------

    def image_for_content(self, sha256: str) -> int | None:
        """The image holding these exact bytes: as its original or as a folded copy."""
        return provenance.image_for_content(self.conn, sha256)

    def face_vectors(self, image_id: int, model_id: str) -> list[Vector]:
        """The embeddings (``float32 (dim,)``) of an image's stored faces, in face order."""
        return provenance.face_vectors(self.conn, image_id, model_id)

    def add_content_hash(self, content: ContentHash) -> None:
        provenance.add_content_hash(self.conn, content)

    def write_checkpoint(self, source_id: int, fingerprint: str, items_done: int) -> None:
        """Items of a stable-order source committed so far, in this same transaction."""
        provenance.write_checkpoint(self.conn, source_id, fingerprint, items_done)
