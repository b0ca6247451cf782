"""Rows of background work (ingestion jobs, batch searches): each is queued, then running,
then finished, failed, or interrupted when a process stopped before it ended."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import sqlalchemy as sa

from faceatlas.store.rows import Repository, utc_now

__all__ = ["UNFINISHED", "QueuedStore"]

UNFINISHED = ("queued", "running")
"""The statuses of work not yet ended."""


class QueuedStore(Repository):
    """A table of queued work; ``table`` has ``id``, ``status``, ``created_at``,
    ``started_at``, ``finished_at``, ``error`` and ``report`` columns."""

    table: ClassVar[sa.Table]

    def interrupt_unfinished(self, error: str) -> None:
        """Mark the rows an earlier process left queued or running interrupted."""
        self._write(
            self.table.update()
            .where(self.table.c.status.in_(UNFINISHED))
            .values(status="interrupted", finished_at=utc_now(), error=error)
        )

    def start(self, row_id: int) -> None:
        self._update(row_id, status="running", started_at=utc_now())

    def fail(self, row_id: int, error: str) -> None:
        self._update(row_id, status="failed", finished_at=utc_now(), error=error)

    def _queue(self, **values: Any) -> int:
        """A new queued row; returns its id."""
        return self._insert(self.table, status="queued", created_at=utc_now(), **values)

    def _finish(self, row_id: int, report: dict[str, Any], **values: Any) -> None:
        self._update(
            row_id, status="finished", finished_at=utc_now(), report=json.dumps(report), **values
        )

    def _update(self, row_id: int, **values: Any) -> None:
        self._write(self.table.update().where(self.table.c.id == row_id).values(**values))
