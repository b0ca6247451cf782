"""Row ids that are never given out twice, so an old result or audit entry never names
someone else.

PostgreSQL sequences never hand out an id twice. SQLite, without ``AUTOINCREMENT``, gives a new
row the largest id in the table plus one, so erasing the newest face would let the next face
take its id. On SQLite the catalog therefore picks the id itself: one above both the table's
largest id and the largest it has ever given out (kept in ``atlas_meta`` as
``id_high_water:<table>``), in the same write transaction as the insert (one writer at a time).
An atlas created before this kept no record: its first new row starts above the largest id
still present.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import upsert

__all__ = ["HIGH_WATER_PREFIX", "FreshIds", "with_fresh_id"]

HIGH_WATER_PREFIX = "id_high_water:"


def with_fresh_id(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the ``id`` the new row must take on SQLite (unchanged elsewhere)."""
    if conn.dialect.name != "sqlite":
        return values
    new_id = _next_free(conn, table)
    _keep_high_water(conn, table, new_id)
    return {**values, "id": new_id}


def _next_free(conn: sa.Connection, table: sa.Table) -> int:
    key = HIGH_WATER_PREFIX + table.name
    stored = conn.execute(sa.select(t.atlas_meta.c.value).where(t.atlas_meta.c.key == key)).scalar()
    largest = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    return max(int(stored or 0), int(largest)) + 1


def _keep_high_water(conn: sa.Connection, table: sa.Table, given: int) -> None:
    upsert(conn, t.atlas_meta, {"key": HIGH_WATER_PREFIX + table.name}, {"value": str(given)})


class FreshIds:
    """:func:`with_fresh_id` for many rows of one write transaction: the high water of a table
    is read at its first insert and counted up in memory; :meth:`flush` stores it, and must
    run in the same transaction, after its last insert (``Catalog.writer`` does).

    Every insert into these tables within the transaction must go through this object."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._last: dict[str, tuple[sa.Table, int]] = {}

    def with_id(self, table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with the ``id`` the new row must take on SQLite (unchanged elsewhere)."""
        if not self.sqlite:
            return values
        known = self._last.get(table.name)
        new_id = _next_free(self.conn, table) if known is None else known[1] + 1
        self._last[table.name] = (table, new_id)
        return {**values, "id": new_id}

    def flush(self) -> None:
        """Store the ids given out (their high water) in the transaction."""
        for table, given in self._last.values():
            _keep_high_water(self.conn, table, given)
        self._last.clear()
