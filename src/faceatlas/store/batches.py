"""Batch-search job rows: queued, running and finished batches with their combined report."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from faceatlas.store.rows import Repository, record_from, utc_now
from faceatlas.store.schema_watchlists import search_batches as b
from faceatlas.types import record, record_dict

__all__ = ["BatchRecord", "BatchStore"]

UNFINISHED = ("queued", "running")


@record
class BatchRecord:
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

    def as_dict(self) -> dict[str, Any]:
        return record_dict(self)


_COLUMNS = [b.c[name] for name in BatchRecord.__dataclass_fields__]


class BatchStore(Repository):
    """The ``search_batches`` table."""

    def interrupt_unfinished(self, error: str) -> None:
        """Mark batches left queued or running by an earlier process interrupted."""
        self._write(
            b.update()
            .where(b.c.status.in_(UNFINISHED))
            .values(status="interrupted", finished_at=utc_now(), error=error)
        )

    def add(self, case_number: str, purpose: str, created_by: str, total: int) -> int:
        return self._insert(
            b,
            case_number=case_number,
            purpose=purpose,
            created_by=created_by,
            status="queued",
            total=total,
            created_at=utc_now(),
        )

    def get(self, batch_id: int) -> BatchRecord | None:
        row = self._first(sa.select(*_COLUMNS).where(b.c.id == batch_id))
        return None if row is None else record_from(BatchRecord, row)

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

    def start(self, batch_id: int) -> None:
        self._update(batch_id, status="running", started_at=utc_now())

    def progress(self, batch_id: int, done: int, failed: int) -> None:
        self._update(batch_id, done=done, failed=failed)

    def finish(self, batch_id: int, report: dict[str, Any], done: int, failed: int) -> None:
        self._update(
            batch_id,
            status="finished",
            finished_at=utc_now(),
            done=done,
            failed=failed,
            report=json.dumps(report),
        )

    def fail(self, batch_id: int, error: str) -> None:
        self._update(batch_id, status="failed", finished_at=utc_now(), error=error)

    def _update(self, batch_id: int, **values: Any) -> None:
        self._write(b.update().where(b.c.id == batch_id).values(**values))
