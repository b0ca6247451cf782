"""Ingest job rows: queued, running and finished jobs of the serving process."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.queued import QueuedStore
from faceatlas.store.rows import record_from
from faceatlas.types import JsonRecord, record

__all__ = ["JobRecord", "JobStore"]


@record
class JobRecord(JsonRecord):
    id: int
    kind: str
    target: str
    status: str
    created_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    done: int
    total: int | None
    faces: int
    report: dict[str, Any]
    error: str | None


def _record(row: sa.Row[Any]) -> JobRecord:
    return record_from(JobRecord, row, report=json.loads(row._mapping["report"] or "{}"))


class JobStore(QueuedStore):
    """The ``ingest_jobs`` table."""

    table = t.ingest_jobs

    def add(self, kind: str, target: str, created_by: str) -> int:
        """A new queued job; returns its id."""
        return self._queue(kind=kind, target=target, created_by=created_by)

    def get(self, job_id: int) -> JobRecord | None:
        return self._one(sa.select(t.ingest_jobs).where(t.ingest_jobs.c.id == job_id), _record)

    def status_counts(self) -> dict[str, int]:
        """How many jobs are in each status."""
        col = t.ingest_jobs.c.status
        rows = self._all(sa.select(col, sa.func.count()).group_by(col))
        return {str(status): int(n) for status, n in rows}

    def newest(self, limit: int) -> list[JobRecord]:
        """The ``limit`` newest jobs, newest first."""
        rows = self._all(sa.select(t.ingest_jobs).order_by(t.ingest_jobs.c.id.desc()).limit(limit))
        return [_record(r) for r in rows]

    def finish(self, job_id: int, *, items: int, faces: int, report: dict[str, Any]) -> None:
        self._finish(job_id, report, done=items, total=items, faces=faces)
