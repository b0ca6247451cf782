"""Ingest job rows: queued, running and finished jobs of the serving process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import Database, new_id, utc_now

__all__ = ["JobRecord", "JobStore"]

UNFINISHED = ("queued", "running")


@dataclass(frozen=True, slots=True)
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
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "done": self.done,
            "total": self.total,
            "faces": self.faces,
            "report": self.report,
            "error": self.error,
        }


def _record(row: sa.Row[Any]) -> JobRecord:
    m = row._mapping
    return JobRecord(
        id=int(m["id"]),
        kind=m["kind"],
        target=m["target"],
        status=m["status"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        done=int(m["done"]),
        total=None if m["total"] is None else int(m["total"]),
        faces=int(m["faces"]),
        report=json.loads(m["report"] or "{}"),
        error=m["error"],
    )


class JobStore:
    """The ``ingest_jobs`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def interrupt_unfinished(self, error: str) -> None:
        """Mark every queued or running job interrupted (left so by an earlier process)."""
        with self.db.begin() as conn:
            conn.execute(
                t.ingest_jobs.update()
                .where(t.ingest_jobs.c.status.in_(UNFINISHED))
                .values(status="interrupted", finished_at=utc_now(), error=error)
            )

    def add(self, kind: str, target: str, created_by: str) -> int:
        """A new queued job; returns its id."""
        with self.db.begin() as conn:
            return new_id(
                conn.execute(
                    t.ingest_jobs.insert().values(
                        kind=kind,
                        target=target,
                        status="queued",
                        created_by=created_by,
                        created_at=utc_now(),
                    )
                )
            )

    def get(self, job_id: int) -> JobRecord | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(t.ingest_jobs).where(t.ingest_jobs.c.id == job_id)).first()
        return None if row is None else _record(row)

    def newest(self, limit: int) -> list[JobRecord]:
        """The ``limit`` newest jobs, newest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(t.ingest_jobs).order_by(t.ingest_jobs.c.id.desc()).limit(limit)
            ).all()
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
        with self.db.begin() as conn:
            conn.execute(
                t.ingest_jobs.update().where(t.ingest_jobs.c.id == job_id).values(**values)
            )
