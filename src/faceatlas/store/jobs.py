"""Ingest job rows: queued, running and finished jobs of the serving process."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import Repository, record_from, utc_now
from faceatlas.types import record, record_dict

__all__ = ["JobRecord", "JobStore"]

UNFINISHED = ("queued", "running")


@record
class JobRecord:
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

    def as_dict(self) -> dict[str, Any]:
        return record_dict(self)


def _record(row: sa.Row[Any]) -> JobRecord:
    return record_from(JobRecord, row, report=json.loads(row._mapping["report"] or "{}"))


class JobStore(Repository):
    """The ``ingest_jobs`` table."""

    def interrupt_unfinished(self, error: str) -> None:
        """Mark every queued or running job interrupted (left so by an earlier process)."""
        self._write(
            t.ingest_jobs.update()
            .where(t.ingest_jobs.c.status.in_(UNFINISHED))
            .values(status="interrupted", finished_at=utc_now(), error=error)
        )

    def add(self, kind: str, target: str, created_by: str) -> int:
        """A new queued job; returns its id."""
        return self._insert(
            t.ingest_jobs,
            kind=kind,
            target=target,
            status="queued",
            created_by=created_by,
            created_at=utc_now(),
        )

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

    def start(self, job_id: int) -> None:
        self._update(job_id, status="running", started_at=utc_now())

    def fail(self, job_id: int, error: str) -> None:
        self._update(job_id, status="failed", finished_at=utc_now(), error=error)

    def finish(self, job_id: int, *, items: int, faces: int, report: dict[str, Any]) -> None:
        self._update(
            job_id,
            status="finished",
            finished_at=utc_now(),
            done=items,
            total=items,
            faces=faces,
            report=json.dumps(report),
        )

    def _update(self, job_id: int, **values: Any) -> None:
        self._write(t.ingest_jobs.update().where(t.ingest_jobs.c.id == job_id).values(**values))
