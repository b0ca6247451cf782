"""The catalog: the atlas's source of truth, in SQLite (WAL) or PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.ids import with_fresh_id
from faceatlas.store.migrations import apply_migrations
from faceatlas.store.records import FaceRecord, ImageRecord, SightingRecord
from faceatlas.types import AnalyzedFace, Box, FaceQuality, Vectors, is_web_url

__all__ = ["Catalog", "CatalogWriter", "NewSighting", "normalize_url", "utc_now"]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class NewSighting:
    """Where an image was seen, as written by an ingester."""

    source_id: int
    locator: str
    page_url: str = ""
    page_title: str | None = None
    alt_text: str | None = None
    caption: str | None = None
    http_last_modified: str | None = None
    file_size: int | None = None
    file_mtime_ns: int | None = None


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


class Catalog:
    """Typed access to the catalog tables. Writes go through :meth:`writer`."""

    def __init__(self, db: sa.Engine) -> None:
        self.db = db

    @classmethod
    def open(cls, url: str) -> Catalog:
        """Open (migrating if needed) the catalog at a SQLAlchemy ``url``.

        ``postgresql://`` and ``postgres://`` URLs use psycopg 3.
        """
        db = sa.create_engine(normalize_url(url), future=True, pool_pre_ping=True)
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
            yield CatalogWriter(conn)

    # --- meta -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(t.atlas_meta.c.value).where(t.atlas_meta.c.key == key)
            ).first()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.writer() as w:
            w.set_meta(key, value)

    # --- lookups used by ingest --------------------------------------------

    def image_id_for_sha(self, sha256: str) -> int | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(t.images.c.id).where(t.images.c.sha256 == sha256)).first()
        return None if row is None else int(row[0])

    def known_file(self, source_id: int, locator: str, size: int, mtime_ns: int) -> bool:
        """True when this exact file (path, size, mtime) is already catalogued."""
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(t.sightings.c.id).where(
                    t.sightings.c.source_id == source_id,
                    t.sightings.c.locator == locator,
                    t.sightings.c.file_size == size,
                    t.sightings.c.file_mtime_ns == mtime_ns,
                )
            ).first()
        return row is not None

    # --- embeddings -----------------------------------------------------------

    def embedding_models(self) -> dict[str, int]:
        """Model id -> number of embeddings stored for it."""
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(t.embeddings.c.model_id, sa.func.count()).group_by(
                    t.embeddings.c.model_id
                )
            ).all()
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
            with self.db.connect() as conn:
                rows = conn.execute(
                    sa.select(t.embeddings.c.id, t.embeddings.c.face_id, t.embeddings.c.vector)
                    .where(t.embeddings.c.model_id == model_id, t.embeddings.c.id > last)
                    .order_by(t.embeddings.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            last = int(rows[-1][0])
            ids = np.fromiter((int(r[1]) for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
            yield ids, vectors, last

    def vectors_for_faces(
        self, model_id: str, face_ids: Sequence[int]
    ) -> dict[int, np.ndarray[Any, np.dtype[np.float32]]]:
        out: dict[int, np.ndarray[Any, np.dtype[np.float32]]] = {}
        with self.db.connect() as conn:
            for chunk in _chunks(list(face_ids), 500):
                rows = conn.execute(
                    sa.select(t.embeddings.c.face_id, t.embeddings.c.vector).where(
                        t.embeddings.c.model_id == model_id, t.embeddings.c.face_id.in_(chunk)
                    )
                ).all()
                out.update({int(r[0]): np.frombuffer(r[1], dtype=np.float32) for r in rows})
        return out

    # --- reads for results --------------------------------------------------------

    def faces(self, face_ids: Sequence[int]) -> dict[int, FaceRecord]:
        """Face records with their image and every sighting, keyed by face id."""
        if not face_ids:
            return {}
        with self.db.connect() as conn:
            face_rows: list[Any] = []
            for chunk in _chunks(list(face_ids), 500):
                face_rows.extend(
                    conn.execute(
                        sa.select(t.faces, t.images)
                        .join(t.images, t.faces.c.image_id == t.images.c.id)
                        .where(t.faces.c.id.in_(chunk))
                    ).all()
                )
            image_ids = sorted({int(r.image_id) for r in face_rows})
            sightings = self._sightings(conn, image_ids)
        out: dict[int, FaceRecord] = {}
        for r in face_rows:
            image = ImageRecord(
                id=int(r.image_id),
                sha256=r.sha256,
                byte_size=int(r.byte_size),
                width=int(r.width),
                height=int(r.height),
                format=r.format,
                face_count=int(r.face_count),
            )
            out[int(r.id)] = FaceRecord(
                id=int(r.id),
                image=image,
                ordinal=int(r.ordinal),
                box=Box(int(r.box_left), int(r.box_top), int(r.box_right), int(r.box_bottom)),
                quality=FaceQuality(
                    box_px=int(r.box_px),
                    detector_score=float(r.detector_score),
                    sharpness=float(r.sharpness),
                    frontal=float(r.frontal),
                ),
                sightings=tuple(sightings.get(image.id, ())),
            )
        return out

    def _sightings(
        self, conn: sa.Connection, image_ids: Sequence[int]
    ) -> dict[int, list[SightingRecord]]:
        out: dict[int, list[SightingRecord]] = {}
        for chunk in _chunks(list(image_ids), 500):
            rows = conn.execute(
                sa.select(
                    t.sightings, t.sources.c.kind, t.sources.c.locator.label("source_locator")
                )
                .join(t.sources, t.sightings.c.source_id == t.sources.c.id)
                .where(t.sightings.c.image_id.in_(chunk))
                .order_by(t.sightings.c.first_seen, t.sightings.c.id)
            ).all()
            for r in rows:
                out.setdefault(int(r.image_id), []).append(
                    SightingRecord(
                        id=int(r.id),
                        source_kind=r.kind,
                        source_locator=r.source_locator,
                        locator=r.locator,
                        page_url=r.page_url,
                        page_title=r.page_title,
                        alt_text=r.alt_text,
                        caption=r.caption,
                        http_last_modified=r.http_last_modified,
                        first_seen=r.first_seen,
                        last_seen=r.last_seen,
                    )
                )
        return out

    def thumbnail(self, face_id: int) -> bytes | None:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(t.thumbnails.c.jpeg).where(t.thumbnails.c.face_id == face_id)
            ).first()
        return None if row is None else bytes(row[0])

    def counts(self) -> dict[str, int]:
        with self.db.connect() as conn:
            return {
                name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
                for name, table in (
                    ("sources", t.sources),
                    ("images", t.images),
                    ("sightings", t.sightings),
                    ("faces", t.faces),
                    ("embeddings", t.embeddings),
                    ("failures", t.ingest_failures),
                )
            }

    def failures(self, limit: int = 100) -> list[dict[str, str]]:
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(
                    t.ingest_failures.c.locator,
                    t.ingest_failures.c.code,
                    t.ingest_failures.c.message,
                )
                .order_by(t.ingest_failures.c.id)
                .limit(limit)
            ).all()
        return [{"locator": r[0], "code": r[1], "message": r[2]} for r in rows]


class CatalogWriter:
    """Writes inside one transaction (see :meth:`Catalog.writer`)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def set_meta(self, key: str, value: str) -> None:
        updated = self.conn.execute(
            t.atlas_meta.update().where(t.atlas_meta.c.key == key).values(value=value)
        ).rowcount
        if not updated:
            self.conn.execute(t.atlas_meta.insert().values(key=key, value=value))

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
        return _new_id(result)

    def start_run(self, source_id: int) -> int:
        result = self.conn.execute(
            t.ingest_runs.insert().values(
                source_id=source_id, started_at=utc_now(), status="running"
            )
        )
        return _new_id(result)

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
        """Insert an image with its faces, thumbnails and embeddings.

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
        image_id = _new_id(
            self.conn.execute(
                t.images.insert().values(with_fresh_id(self.conn, t.images, image_row))
            )
        )
        written: list[tuple[int, int]] = []
        for ordinal, face in enumerate(faces):
            b = face.box
            q = face.quality
            face_row = {
                "image_id": image_id,
                "ordinal": ordinal,
                "box_left": b.left,
                "box_top": b.top,
                "box_right": b.right,
                "box_bottom": b.bottom,
                "landmarks": json.dumps(
                    [[round(x, 2), round(y, 2)] for x, y in face.detection.landmarks]
                ),
                "detector_score": float(q.detector_score),
                "sharpness": float(q.sharpness),
                "frontal": float(q.frontal),
                "box_px": int(q.box_px),
            }
            face_id = _new_id(
                self.conn.execute(
                    t.faces.insert().values(with_fresh_id(self.conn, t.faces, face_row))
                )
            )
            self.conn.execute(
                t.thumbnails.insert().values(
                    face_id=face_id, jpeg=face.thumbnail_jpeg, created_at=now
                )
            )
            embedding_id = self.add_embedding(face_id, model_id, face.embedding)
            written.append((face_id, embedding_id))
        return image_id, written

    def add_embedding(
        self, face_id: int, model_id: str, vector: np.ndarray[Any, np.dtype[np.float32]]
    ) -> int:
        vec = np.ascontiguousarray(vector, dtype=np.float32)
        result = self.conn.execute(
            t.embeddings.insert().values(
                face_id=face_id,
                model_id=model_id,
                dim=int(vec.shape[0]),
                vector=vec.tobytes(),
                created_at=utc_now(),
            )
        )
        return _new_id(result)

    def add_sighting(self, image_id: int, sighting: NewSighting) -> bool:
        """Record a sighting; an existing one (same image, locator, page) is refreshed.

        Returns True when a new sighting row was created.
        """
        now = utc_now()
        page_url = sighting.page_url if is_web_url(sighting.page_url) else ""
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
        self.conn.execute(
            t.sightings.insert().values(
                image_id=image_id,
                source_id=sighting.source_id,
                locator=sighting.locator,
                page_url=page_url,
                first_seen=now,
                **values,
            )
        )
        return True

    def record_failure(self, source_id: int, locator: str, code: str, message: str) -> None:
        where = (t.ingest_failures.c.source_id == source_id) & (
            t.ingest_failures.c.locator == locator
        )
        updated = self.conn.execute(
            t.ingest_failures.update()
            .where(where)
            .values(code=code, message=message[:1000], at=utc_now())
        ).rowcount
        if not updated:
            self.conn.execute(
                t.ingest_failures.insert().values(
                    source_id=source_id,
                    locator=locator,
                    code=code,
                    message=message[:1000],
                    at=utc_now(),
                )
            )

    def delete_faces(self, face_ids: Sequence[int]) -> int:
        """Delete faces with their embeddings and thumbnails; returns how many faces existed."""
        deleted = 0
        for chunk in _chunks(sorted({int(i) for i in face_ids}), 500):
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


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer key
        raise RuntimeError("insert returned no primary key")
    return int(key[0])


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
