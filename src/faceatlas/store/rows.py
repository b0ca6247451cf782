"""Small helpers every repository in the store shares: times, new ids, id chunks, records
read from and written to rows, and the :class:`Repository` base of the table stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar, TypeVarTuple

import sqlalchemy as sa

__all__ = [
    "CHUNK",
    "Database",
    "Repository",
    "chunks",
    "new_id",
    "record_from",
    "rows_in",
    "upsert",
    "utc_now",
    "values_of",
]

R = TypeVar("R")
Ts = TypeVarTuple("Ts")

Database: TypeAlias = sa.Engine
"""The catalog's database handle (``Catalog.db``). Code above the store only passes it to
repositories; it never runs statements on it."""

CHUNK = 500
"""Ids per ``IN (...)`` list, well under every backend's bound-parameter limit."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id(result: sa.CursorResult[Any]) -> int:
    """The integer primary key an ``INSERT`` gave its row."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer key
        raise RuntimeError("insert returned no primary key")
    return int(key[0])


def chunks(items: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def rows_in(
    conn: sa.Connection, query: sa.Select[*Ts], column: sa.ColumnElement[Any], ids: Sequence[int]
) -> Iterator[sa.Row[*Ts]]:
    """The rows of ``query`` whose ``column`` is one of ``ids``, read a chunk of ids at a time."""
    for chunk in chunks(list(ids)):
        yield from conn.execute(query.where(column.in_(chunk)))


def upsert(
    conn: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Set ``values`` on the row whose columns equal ``key``, inserting it when there is none."""
    where = [table.c[name] == value for name, value in key.items()]
    if not conn.execute(table.update().where(*where).values(**values)).rowcount:
        conn.execute(table.insert().values(**key, **values))


def record_from(cls: type[R], row: Any, table: sa.Table | None = None, **given: Any) -> R:
    """The ``cls`` record of a result row: each field not ``given`` is the column of the same
    name, of ``table`` when given (a row that joins tables whose column names collide)."""
    m = row._mapping
    read = {
        f.name: m[f.name] if table is None else m[table.c[f.name]]
        for f in fields(cls)  # type: ignore[arg-type]
        if f.name not in given
    }
    return cls(**read, **given)


def values_of(record: Any) -> dict[str, Any]:
    """A record's fields by name: the column values of the row it writes."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


class Repository:
    """The tables of one family over the catalog's database; each read opens a connection and
    each write runs in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _first(self, query: sa.Select[*Ts]) -> sa.Row[*Ts] | None:
        with self.db.connect() as conn:
            return conn.execute(query).first()

    def _one(self, query: sa.Select[Any], read: Callable[[sa.Row[Any]], R]) -> R | None:
        """What ``read`` makes of the query's first row; ``None`` when there is no row."""
        row = self._first(query)
        return None if row is None else read(row)

    def _all(self, query: sa.Select[*Ts]) -> Sequence[sa.Row[*Ts]]:
        with self.db.connect() as conn:
            return conn.execute(query).all()

    def _count(self, table: sa.Table) -> int:
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    def _write(self, statement: sa.Executable) -> int:
        """Run one change in its own transaction; returns how many rows it touched."""
        with self.db.begin() as conn:
            return int(conn.execute(statement).rowcount)

    def _insert(self, table: sa.Table, **values: Any) -> int:
        """Insert one row in its own transaction; returns its id."""
        with self.db.begin() as conn:
            return new_id(conn.execute(table.insert().values(**values)))
