"""Audit rows: the append-only ``audit_log`` table and its head record in ``atlas_meta``.

The hash-chain rule (what each row's hash covers, how a chain is verified) lives in
:mod:`faceatlas.audit.log`; this module only stores and reads rows, as written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from faceatlas.store import schema as t
from faceatlas.store.rows import Repository, record_from, upsert, values_of
from faceatlas.types import record

__all__ = ["HEAD_META", "AuditQuery", "AuditRecord", "AuditRow", "AuditStore", "Link"]

HEAD_META = "audit_head"
"""``atlas_meta`` key of the newest entry's ``{"seq": ..., "hash": ...}``, written with it, so
deleting the newest entries is detected too."""

Link = tuple[int, str]
"""``(seq, entry_hash)`` of one entry."""


Details = TypeVar("Details")


@record
class AuditRecord(Generic[Details]):
    """One audit entry: stored (:class:`AuditRow`) or as read (``faceatlas.audit.AuditEntry``)."""

    seq: int
    at: str
    actor: str
    actor_role: str
    actor_unit: str
    action: str
    case_number: str | None
    purpose: str | None
    details: Details
    prev_hash: str
    entry_hash: str


@record
class AuditRow(AuditRecord[str]):
    """One stored entry; ``details`` is the canonical JSON text the hash covers."""


@record
class AuditQuery:
    """Which entries to read, newest first; ``None`` fields do not filter."""

    action: str | None = None
    actors: Sequence[str] | None = None
    actor: str | None = None
    case_number: str | None = None
    units: Sequence[str] | None = None
    limit: int = 200
    before_seq: int | None = None


def _newest(conn: sa.Connection) -> Link | None:
    row = conn.execute(
        sa.select(t.audit_log.c.seq, t.audit_log.c.entry_hash)
        .order_by(t.audit_log.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


class AuditStore(Repository):
    """The ``audit_log`` table and its head record."""

    def append(self, build: Callable[[Link | None], AuditRow]) -> AuditRow | None:
        """Write the row ``build`` makes from the newest entry, and the new head, in one
        transaction. ``None`` when another writer took that sequence number first."""
        try:
            with self.db.begin() as conn:
                row = build(_newest(conn))
                conn.execute(t.audit_log.insert().values(**values_of(row)))
                head = json.dumps({"seq": row.seq, "hash": row.entry_hash})
                upsert(conn, t.atlas_meta, {"key": HEAD_META}, {"value": head})
        except IntegrityError:
            return None
        return row

    def newest(self) -> Link | None:
        """The entry with the highest sequence number."""
        with self.db.connect() as conn:
            return _newest(conn)

    def head(self) -> Link | None:
        """The head record, as last written (``None`` when missing)."""
        row = self._first(sa.select(t.atlas_meta.c.value).where(t.atlas_meta.c.key == HEAD_META))
        if row is None:
            return None
        data = json.loads(row[0])
        return int(data["seq"]), str(data["hash"])

    def entries(self, query: AuditQuery) -> list[AuditRow]:
        log = t.audit_log
        q = sa.select(log).order_by(log.c.seq.desc()).limit(query.limit)
        if query.action is not None:
            q = q.where(log.c.action == query.action)
        if query.actor is not None:
            q = q.where(log.c.actor == query.actor)
        if query.actors is not None:
            q = q.where(log.c.actor.in_(list(query.actors)))
        if query.case_number is not None:
            q = q.where(log.c.case_number == query.case_number)
        if query.units is not None:
            q = q.where(log.c.actor_unit.in_(list(query.units)))
        if query.before_seq is not None:
            q = q.where(log.c.seq < query.before_seq)
        return [record_from(AuditRow, r) for r in self._all(q)]

    def counts(
        self, by: Literal["actor", "case_number"], action: str, units: Sequence[str] | None
    ) -> list[tuple[str | None, int, str]]:
        """``(actor or case number, entries, newest at)`` of ``action`` entries, most recently
        active first (optionally only actors of ``units``)."""
        log = t.audit_log
        col = log.c.actor if by == "actor" else log.c.case_number
        q = (
            sa.select(col, sa.func.count(), sa.func.max(log.c.at))
            .where(log.c.action == action)
            .group_by(col)
            .order_by(sa.func.max(log.c.at).desc())
        )
        if units is not None:
            q = q.where(log.c.actor_unit.in_(list(units)))
        return [(r[0], int(r[1]), r[2]) for r in self._all(q)]

    def rows(self, batch: int) -> Iterator[AuditRow]:
        """Every row, whatever its ``seq`` (so that verification, export and every reader see
        one and the same set), in ``seq`` order, read ``batch`` rows at a time."""
        last: int | None = None
        while True:
            q = sa.select(t.audit_log).order_by(t.audit_log.c.seq).limit(batch)
            if last is not None:
                q = q.where(t.audit_log.c.seq > last)
            found = self._all(q)
            if not found:
                return
            for r in found:
                yield record_from(AuditRow, r)
            last = int(found[-1]._mapping["seq"])

    def entry_hashes(self, seqs: Sequence[int]) -> dict[int, str]:
        """The stored hash of each entry of ``seqs`` that exists."""
        wanted = sorted(set(seqs))
        rows = self._all(
            sa.select(t.audit_log.c.seq, t.audit_log.c.entry_hash).where(
                t.audit_log.c.seq.in_(wanted)
            )
        )
        return {int(r[0]): str(r[1]) for r in rows}
