"""Batch-search job rows: queued, running and finished batches with their combined report."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from faceatlas.store.queued import QueuedStore
from faceatlas.store.rows import record_from
from faceatlas.store.schema_watchlists import search_batches as b
from faceatlas.types import JsonRecord, record

__all__ = ["BatchRecord", "BatchStore"]


@record
class BatchRecord(JsonRecord):
    id: int
    case_number: str
    purpose: str
    created_by: str
    status: str
    """``queued``, ``running``, ``finished``, ``failed`` or ``interrupted``."""
    total: int
    done: int
    failed: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None


_COLUMNS = [b.c[name] for name in BatchRecord.__dataclass_fields__]


class BatchStore(QueuedStore):
    """The ``search_batches`` table."""

    table = b

    def add(self, case_number: str, purpose: str, created_by: str, total: int) -> int:
        return self._queue(
            case_number=case_number, purpose=purpose, created_by=created_by, total=total
        )

    def get(self, batch_id: int) -> BatchRecord | None:
        query = sa.select(*_COLUMNS).where(b.c.id == batch_id)
        return self._one(query, lambda row: record_from(BatchRecord, row))

    def newest(self, created_by: str, limit: int) -> list[BatchRecord]:
        """``created_by``'s newest batches, newest first."""
        query = (
            sa.select(*_COLUMNS)
            .where(b.c.created_by == created_by)
            .order_by(b.c.id.desc())
            .limit(limit)
        )
        return [record_from(BatchRecord, r) for r in self._all(query)]

    def report(self, batch_id: int) -> dict[str, Any] | None:
        """The finished batch's report, ``None`` before it finished."""
        row = self._first(sa.select(b.c.report).where(b.c.id == batch_id))
        return None if row is None or row[0] is None else dict(json.loads(row[0]))

    def progress(self, batch_id: int, done: int, failed: int) -> None:
        self._update(batch_id, done=done, failed=failed)

    def finish(self, batch_id: int, report: dict[str, Any], done: int, failed: int) -> None:
        self._finish(batch_id, report, done=done, failed=failed)
