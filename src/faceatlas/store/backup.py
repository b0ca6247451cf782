"""Snapshots of SQLite files and what a backup and a restore read and write in a catalog.

A snapshot is taken with SQLite's online backup API: one read transaction copies every page,
so the copy is the database as one moment saw it, while other connections go on writing
(WAL). The copy is turned into a self-contained file (rollback journal, no ``-wal``) and its
integrity checked. Opt-out requests are copied between catalogs with their templates, under
the same ids, so a restore can bring back requests made after its snapshot.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from faceatlas.errors import ConfigError, NotFoundError
from faceatlas.store import schema as t
from faceatlas.store.ids import HIGH_WATER_PREFIX
from faceatlas.store.rows import Database, Repository, upsert
from faceatlas.types import picked, record

__all__ = [
    "SQLITE_MAGIC",
    "BackupStore",
    "OptOutCopy",
    "is_sqlite_file",
    "read_only_database",
    "snapshot_sqlite",
    "sqlite_problem",
]

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is an SQLite database (by its first 16 bytes)."""
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def snapshot_sqlite(source: Path, dest: Path) -> None:
    """Copy the live database ``source`` to the new file ``dest`` with the online backup API
    (one consistent moment, writers not stopped), as a self-contained, checked file."""
    if not source.is_file():
        raise NotFoundError(f"no SQLite database at {source}")
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)  # all pages in one step: one read transaction
            out.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = out.execute("PRAGMA integrity_check").fetchone()
        finally:
            out.close()
    finally:
        src.close()
    if verdict != "ok":
        raise ConfigError(
            f"the snapshot of {source.name} fails SQLite's integrity check: {verdict}"
        )


def sqlite_problem(path: Path) -> str | None:
    """Why the SQLite file ``path`` cannot be read whole (``PRAGMA quick_check``), or ``None``."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            (verdict,) = db.execute("PRAGMA quick_check").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return str(exc)
    return None if verdict == "ok" else str(verdict)


def read_only_database(path: Path) -> Database:
    """A read-only handle on the SQLite file ``path`` (nothing is migrated or written)."""
    return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=sa.NullPool)


@record
class OptOutCopy:
    """An opt-out request as a restore brings it back: the request and every template
    (``(model_id, dim, float32 bytes)``), which stay inactive until it is approved again."""

    request_id: int
    contact: str
    channel: str
    created_at: str
    templates: tuple[tuple[str, int, bytes], ...]

    @property
    def templates_sha256(self) -> str:
        """SHA-256 of the templates' float32 bytes, in order (what the audit log records)."""
        return hashlib.sha256(b"".join(v for _, _, v in self.templates)).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            **picked(self, "request_id", "contact", "channel", "created_at"),
            "templates": [
                {"model_id": m, "dim": d, "vector": base64.b64encode(v).decode()}
                for m, d, v in self.templates
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OptOutCopy:
        return cls(
            request_id=int(data["request_id"]),
            contact=str(data["contact"]),
            channel=str(data["channel"]),
            created_at=str(data["created_at"]),
            templates=tuple(
                (str(x["model_id"]), int(x["dim"]), base64.b64decode(x["vector"]))
                for x in data["templates"]
            ),
        )


class BackupStore(Repository):
    """The catalog rows a backup records and a restore puts back."""

    def id_high_waters(self) -> dict[str, int]:
        """Per table, the largest id ever given out (:mod:`faceatlas.store.ids`)."""
        meta = t.atlas_meta
        rows = self._all(
            sa.select(meta.c.key, meta.c.value).where(meta.c.key.startswith(HIGH_WATER_PREFIX))
        )
        return {str(k).removeprefix(HIGH_WATER_PREFIX): int(v) for k, v in rows}

    def raise_id_high_waters(self, marks: dict[str, int]) -> None:
        """Never give out again an id the catalog's later self gave out (``marks``)."""
        mine = self.id_high_waters()
        with self.db.begin() as conn:
            for table, mark in marks.items():
                if mark > mine.get(table, 0):
                    key = {"key": HIGH_WATER_PREFIX + table}
                    upsert(conn, t.atlas_meta, key, {"value": str(mark)})

    def optout_copy(self, request_id: int) -> OptOutCopy | None:
        req, tpl = t.optout_requests, t.optout_templates
        row = self._first(sa.select(req).where(req.c.id == request_id))
        if row is None:
            return None
        vectors = self._all(
            sa.select(tpl.c.model_id, tpl.c.dim, tpl.c.vector)
            .where(tpl.c.request_id == request_id)
            .order_by(tpl.c.id)
        )
        return OptOutCopy(
            request_id=request_id,
            contact=row.contact,
            channel=row.channel,
            created_at=row.created_at,
            templates=tuple((str(m), int(d), bytes(v)) for m, d, v in vectors),
        )

    def put_optout_copy(self, copy: OptOutCopy) -> bool:
        """Insert the request (pending, templates inactive) unless its id exists; whether
        it was inserted."""
        req = t.optout_requests
        if self._first(sa.select(req.c.id).where(req.c.id == copy.request_id)) is not None:
            return False
        with self.db.begin() as conn:
            conn.execute(
                req.insert().values(
                    id=copy.request_id,
                    contact=copy.contact,
                    status="pending",
                    channel=copy.channel,
                    created_at=copy.created_at,
                )
            )
            for model_id, dim, vector in copy.templates:
                conn.execute(
                    t.optout_templates.insert().values(
                        request_id=copy.request_id,
                        model_id=model_id,
                        dim=dim,
                        vector=vector,
                        active=False,
                        created_at=copy.created_at,
                    )
                )
        return True
