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

__all__ = ["HIGH_WATER_PREFIX", "with_fresh_id"]

HIGH_WATER_PREFIX = "id_high_water:"


def with_fresh_id(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the ``id`` the new row must take on SQLite (unchanged elsewhere)."""
    if conn.dialect.name != "sqlite":
        return values
    key = HIGH_WATER_PREFIX + table.name
    stored = conn.execute(sa.select(t.atlas_meta.c.value).where(t.atlas_meta.c.key == key)).scalar()
    largest = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    new_id = max(int(stored or 0), int(largest)) + 1
    upsert(conn, t.atlas_meta, {"key": key}, {"value": str(new_id)})
    return {**values, "id": new_id}
