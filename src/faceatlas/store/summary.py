"""What an embedded (SQLite) catalog holds, read with the standard library's ``sqlite3``:
counts, embeddings per model, the first ingest failures and the atlas meta, without
SQLAlchemy, migrations or a connection pool. ``faceatlas stats`` answers from here.

It only reads: the file is opened as it is (never created, never migrated) and queried with
``query_only`` on. A file that is missing, locked past the timeout or of a schema that lacks
a table read here gives ``None``, and the caller opens the catalog the usual way
(:meth:`faceatlas.store.Catalog.open`), which migrates it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CATALOG_FILE",
    "COUNTED_TABLES",
    "META_DIM",
    "META_INDEX_DIRTY",
    "META_MODEL_ID",
    "CatalogSummary",
    "read_summary",
    "threshold_meta_key",
]

CATALOG_FILE = "catalog.sqlite3"
"""The embedded catalog's file in an atlas folder."""
META_MODEL_ID = "model_id"
META_DIM = "embedding_dim"
META_INDEX_DIRTY = "index_dirty"
COUNTED_TABLES = (
    ("sources", "sources"),
    ("images", "images"),
    ("sightings", "sightings"),
    ("faces", "faces"),
    ("embeddings", "embeddings"),
    ("failures", "ingest_failures"),
)
"""What the catalog's counts name, and the table each counts the rows of."""
BUSY_TIMEOUT_S = 5.0


def threshold_meta_key(model_id: str) -> str:
    """The atlas meta key of ``model_id``'s calibrated search threshold."""
    return f"calibrated_threshold:{model_id}"


# A plain frozen dataclass, not faceatlas.types.record: that module imports NumPy.
@dataclass(frozen=True, slots=True)
class CatalogSummary:
    """What the catalog holds, as :class:`~faceatlas.store.Catalog` reports it."""

    counts: dict[str, int]
    """Rows per :data:`COUNTED_TABLES` name (``Catalog.counts``)."""
    embeddings_by_model: dict[str, int]
    failures: list[dict[str, str]]
    """The first ingest failures, ``locator``, ``code``, ``message`` (``Catalog.failures``)."""
    meta: dict[str, str]
    """The atlas meta, key to value."""
    model_embeddings: int
    """Embeddings of the model asked about."""
    watermark: int
    """The highest embedding id of that model (0 when it has none)."""


def read_summary(path: Path, model_id: str, *, failures: int) -> CatalogSummary | None:
    """The summary of the SQLite catalog at ``path`` for ``model_id`` (and its first
    ``failures`` ingest failures), or ``None`` where it cannot be read this way."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return None
    try:
        db.execute("PRAGMA query_only=ON")
        with db:  # one read transaction: every figure from the same moment
            db.execute("BEGIN")
            counts = {
                name: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for name, table in COUNTED_TABLES
            }
            by_model = db.execute(
                "SELECT model_id, count(*) FROM embeddings GROUP BY model_id"
            ).fetchall()
            listed = db.execute(
                "SELECT locator, code, message FROM ingest_failures ORDER BY id LIMIT ?",
                (failures,),
            ).fetchall()
            meta = db.execute("SELECT key, value FROM atlas_meta").fetchall()
            count, top = db.execute(
                "SELECT count(*), max(id) FROM embeddings WHERE model_id = ?", (model_id,)
            ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return CatalogSummary(
        counts=counts,
        embeddings_by_model={str(m): int(n) for m, n in by_model},
        failures=[{"locator": r[0], "code": r[1], "message": r[2]} for r in listed],
        meta={str(k): str(v) for k, v in meta},
        model_embeddings=int(count),
        watermark=int(top or 0),
    )
