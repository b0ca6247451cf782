"""The catalog: the atlas's source of truth, in SQLite (WAL) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import sqlalchemy as sa

from faceatlas.store import provenance
from faceatlas.store import schema as t
from faceatlas.store.columns import BOX_COLUMNS, box_of, quality_of
from faceatlas.store.migrations import apply_migrations
from faceatlas.store.provenance import ContentHash
from faceatlas.store.records import FaceRecord, ImageRecord, SightingRecord, StoredFace
from faceatlas.store.rows import Repository, record_from, rows_in, utc_now
from faceatlas.store.spans import spans_of
from faceatlas.store.summary import COUNTED_TABLES
from faceatlas.store.writer import CatalogWriter, NewSighting
from faceatlas.types import Vectors

__all__ = ["Catalog", "CatalogWriter", "NewSighting", "normalize_url", "utc_now"]


def normalize_url(url: str) -> str:
    """Route plain PostgreSQL URLs to the psycopg 3 driver; others pass unchanged."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_KNOWN_FILE = sa.select(t.sightings.c.id).where(
    t.sightings.c.source_id == sa.bindparam("source_id"),
    t.sightings.c.locator == sa.bindparam("locator"),
    t.sightings.c.file_size == sa.bindparam("size"),
    t.sightings.c.file_mtime_ns == sa.bindparam("mtime_ns"),
)
"""Built once: ingest asks for every file of a folder."""


class Catalog(Repository):
    """Typed access to the catalog tables. Writes go through :meth:`writer`."""

    @classmethod
    def open(cls, url: str) -> Catalog:
        """Open (migrating if needed) the catalog at a SQLAlchemy ``url``.

        ``postgresql://`` and ``postgres://`` URLs use psycopg 3.
        """
        url = normalize_url(url)
        # a server's connections can go stale (a restart): checked on checkout; a file's cannot
        remote = sa.engine.make_url(url).get_backend_name() != "sqlite"
        db = sa.create_engine(url, future=True, pool_pre_ping=remote)
        if db.dialect.name == "sqlite":
            sa.event.listen(db, "connect", _sqlite_pragmas)
        apply_migrations(db)
        return cls(db)

    def close(self) -> None:
        self.db.dispose()

    @contextmanager
    def writer(self) -> Iterator[CatalogWriter]:
        """One transaction: everything inside commits together or not at all."""
        with self.db.begin() as conn:
            writer = CatalogWriter(conn)
            yield writer
            writer.close()

    # --- meta -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        query = sa.select(t.atlas_meta.c.value).where(t.atlas_meta.c.key == key)
        return self._one(query, lambda row: str(row[0]))

    def set_meta(self, key: str, value: str) -> None:
        with self.writer() as w:
            w.set_meta(key, value)

    # --- lookups used by ingest --------------------------------------------

    def image_id_for_sha(self, sha256: str) -> int | None:
        query = sa.select(t.images.c.id).where(t.images.c.sha256 == sha256)
        return self._one(query, lambda row: int(row[0]))

    def known_file(self, source_id: int, locator: str, size: int, mtime_ns: int) -> bool:
        """True when this exact file (path, size, mtime) is already catalogued."""
        values = {"source_id": source_id, "locator": locator, "size": size, "mtime_ns": mtime_ns}
        with self.db.connect() as conn:
            return conn.execute(_KNOWN_FILE, values).first() is not None

    # --- content hashes and checkpoints (web provenance) ------------------------------

    def image_for_content(self, sha256: str) -> int | None:
        """The image holding these exact bytes: as its original or as a folded copy."""
        with self.db.connect() as conn:
            return provenance.image_for_content(conn, sha256)

    def content_hashes(self) -> Iterator[ContentHash]:
        """Every stored hash with a perceptual hash, in id order."""
        return provenance.iter_content_hashes(self.db)

    def read_checkpoint(self, source_id: int, fingerprint: str) -> int:
        """Items already committed for this source, or 0 when its content changed since."""
        return provenance.read_checkpoint(self.db, source_id, fingerprint)

    # --- embeddings -----------------------------------------------------------

    def embedding_models(self) -> dict[str, int]:
        """Model id -> number of embeddings stored for it."""
        rows = self._all(
            sa.select(t.embeddings.c.model_id, sa.func.count()).group_by(t.embeddings.c.model_id)
        )
        return {str(m): int(n) for m, n in rows}

    def embedding_watermark(self, model_id: str) -> tuple[int, int]:
        """``(count, max embedding id)`` for ``model_id``; ``(0, 0)`` when empty."""
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(sa.func.count(), sa.func.max(t.embeddings.c.id)).where(
                    t.embeddings.c.model_id == model_id
                )
            ).one()
        return int(row[0]), int(row[1] or 0)

    def iter_embeddings(
        self, model_id: str, *, after_id: int = 0, batch: int = 10_000
    ) -> Iterator[tuple[np.ndarray[Any, np.dtype[np.int64]], Vectors, int]]:
        """Yield ``(face_ids int64 (n,), vectors float32 (n, dim), last embedding id)`` batches."""
        last = after_id
        while True:
            rows = self._all(
                sa.select(t.embeddings.c.id, t.embeddings.c.face_id, t.embeddings.c.vector)
                .where(t.embeddings.c.model_id == model_id, t.embeddings.c.id > last)
                .order_by(t.embeddings.c.id)
                .limit(batch)
            )
            if not rows:
                return
            last = int(rows[-1][0])
            ids = np.fromiter((int(r[1]) for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
            yield ids, vectors, last

    def vectors_for_faces(
        self, model_id: str, face_ids: Sequence[int]
    ) -> dict[int, np.ndarray[Any, np.dtype[np.float32]]]:
        e = t.embeddings
        query = sa.select(e.c.face_id, e.c.vector).where(e.c.model_id == model_id)
        with self.db.connect() as conn:
            rows = rows_in(conn, query, e.c.face_id, face_ids)
            return {int(r[0]): np.frombuffer(r[1], dtype=np.float32) for r in rows}

    # --- reads for results --------------------------------------------------------

    def faces(self, face_ids: Sequence[int]) -> dict[int, FaceRecord]:
        """Face records with their image, every sighting and (a video's) span, by face id."""
        if not face_ids:
            return {}
        query = sa.select(t.faces, t.images).join(t.images, t.faces.c.image_id == t.images.c.id)
        with self.db.connect() as conn:
            face_rows = list(rows_in(conn, query, t.faces.c.id, face_ids))
            image_ids = sorted({int(r.image_id) for r in face_rows})
            sightings = self._sightings(conn, image_ids)
            spans = spans_of(conn, [int(r.id) for r in face_rows])
        out: dict[int, FaceRecord] = {}
        for r in face_rows:
            image = record_from(ImageRecord, r, t.images)
            out[int(r.id)] = FaceRecord(
                id=int(r.id),
                image=image,
                ordinal=int(r.ordinal),
                box=box_of(r),
                quality=quality_of(r),
                sightings=tuple(sightings.get(image.id, ())),
                span=spans.get(int(r.id)),
            )
        return out

    def _sightings(
        self, conn: sa.Connection, image_ids: Sequence[int]
    ) -> dict[int, list[SightingRecord]]:
        query = (
            sa.select(
                t.sightings,
                t.sources.c.kind.label("source_kind"),
                t.sources.c.locator.label("source_locator"),
            )
            .join(t.sources, t.sightings.c.source_id == t.sources.c.id)
            .order_by(t.sightings.c.first_seen, t.sightings.c.id)
        )
        out: dict[int, list[SightingRecord]] = {}
        for r in rows_in(conn, query, t.sightings.c.image_id, image_ids):
            out.setdefault(int(r.image_id), []).append(record_from(SightingRecord, r))
        return out

    def faces_without_embedding(self, model_id: str) -> dict[int, list[StoredFace]]:
        """Faces with no embedding of ``model_id``, grouped by image id (ids ascending)."""
        done = sa.select(t.embeddings.c.face_id).where(t.embeddings.c.model_id == model_id)
        f = t.faces
        query = (
            sa.select(f.c.id, f.c.image_id, *(f.c[name] for name in BOX_COLUMNS))
            .where(f.c.id.not_in(done))
            .order_by(f.c.image_id, f.c.id)
        )
        out: dict[int, list[StoredFace]] = {}
        with self.db.connect() as conn:
            for r in conn.execute(query):
                out.setdefault(int(r.image_id), []).append(
                    StoredFace(int(r.id), int(r.image_id), box_of(r))
                )
        return out

    def image_places(self, image_id: int) -> tuple[str, list[tuple[str, str, str]]]:
        """An image's stored SHA-256 and every ``(source kind, source locator, locator)`` it
        was seen at, most recently seen first."""
        with self.db.connect() as conn:
            sha = conn.execute(
                sa.select(t.images.c.sha256).where(t.images.c.id == image_id)
            ).scalar_one()
            rows = conn.execute(
                sa.select(t.sources.c.kind, t.sources.c.locator, t.sightings.c.locator)
                .join(t.sources, t.sightings.c.source_id == t.sources.c.id)
                .where(t.sightings.c.image_id == image_id)
                .order_by(t.sightings.c.last_seen.desc())
            ).all()
        return str(sha), [(str(k), str(s), str(loc)) for k, s, loc in rows]

    def face_count(self) -> int:
        return self._count(t.faces)

    def thumbnail(self, face_id: int) -> bytes | None:
        query = sa.select(t.thumbnails.c.jpeg).where(t.thumbnails.c.face_id == face_id)
        return self._one(query, lambda row: bytes(row[0]))

    def counts(self) -> dict[str, int]:
        return {name: self._count(t.metadata.tables[table]) for name, table in COUNTED_TABLES}

    def failures(self, limit: int = 100) -> list[dict[str, str]]:
        rows = self._all(
            sa.select(
                t.ingest_failures.c.locator,
                t.ingest_failures.c.code,
                t.ingest_failures.c.message,
            )
            .order_by(t.ingest_failures.c.id)
            .limit(limit)
        )
        return [{"locator": r[0], "code": r[1], "message": r[2]} for r in rows]
