"""Watchlist rows: case-bound entries with their probe template, and the alerts they raise.

The rules (who may create, approve, renew; what matches; when an entry ends) live in
:mod:`faceatlas.cases.watchlist`; this module only reads and writes rows. Ending an entry
deletes its template (the probe embedding) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from faceatlas.store import schema_cases as c
from faceatlas.store.rows import Repository, new_id, record_from
from faceatlas.store.schema_watchlists import (
    watchlist_alerts,
    watchlist_entries,
    watchlist_templates,
)
from faceatlas.types import JsonRecord, Vector, record, record_dict

__all__ = [
    "AlertRecord",
    "Delivery",
    "EndReason",
    "EntryKind",
    "EntryStatus",
    "NewAlert",
    "NewEntry",
    "WatchlistEntry",
    "WatchlistStore",
]

e = watchlist_entries
a = watchlist_alerts


class EntryKind(StrEnum):
    PHOTO = "photo"
    """A face of a probe photo."""
    IDENTITY = "identity"
    """A stored identity, watched through its best-quality face."""


class EntryStatus(StrEnum):
    PENDING = "pending"
    """Waiting for a supervisor's approval: matches nothing."""
    ACTIVE = "active"
    """Approved and not yet expired: new material is matched against it."""
    ENDED = "ended"
    """Expired, its case closed, or deleted: its template is gone."""


class EndReason(StrEnum):
    EXPIRED = "expired"
    CASE_CLOSED = "case_closed"
    DELETED = "deleted"
    MODEL_CHANGED = "model_changed"
    """The atlas was re-embedded with another model: the template cannot match new faces."""


class Delivery(StrEnum):
    """Where an alert's webhook delivery stands."""

    NONE = "none"
    """No webhook configured when the alert was raised."""
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every attempt failed; ``last_error`` says why."""


@record
class NewEntry:
    case_id: int
    kind: EntryKind
    label: str
    probe_sha256: str | None
    identity_id: int | None
    model_id: str
    threshold: float
    threshold_source: str
    requested_days: int
    requested_by: str
    requested_at: str


@record
class WatchlistEntry(NewEntry, JsonRecord):
    """An entry as stored: what was asked for (:class:`NewEntry`), its case's number, where
    it stands, who approved or renewed it until when, and how it ended."""

    id: int
    case_number: str
    status: EntryStatus
    approved_by: str | None
    approved_at: str | None
    expires_at: str | None
    renewed_by: str | None
    renewed_at: str | None
    ended_reason: EndReason | None
    ended_by: str | None
    ended_at: str | None
    has_template: bool
    """Whether the probe embedding is still stored (never once the entry ended)."""

    DIGITS: ClassVar[Mapping[str, int]] = {"threshold": 4}


@record
class NewAlert:
    entry_id: int
    case_id: int
    face_id: int
    image_id: int
    similarity: float
    score: float
    threshold: float
    raised_at: str
    delivery: Delivery


@record
class AlertRecord(NewAlert, JsonRecord):
    """An alert as stored: what was raised (:class:`NewAlert`), the entry's label and case
    number, its audit entry, and where its webhook delivery stands."""

    id: int
    entry_label: str
    case_number: str
    audit_seq: int | None
    attempts: int
    last_error: str | None
    delivered_at: str | None

    DIGITS: ClassVar[Mapping[str, int]] = {"similarity": 4, "score": 4, "threshold": 4}


_ENTRY_QUERY = (
    sa.select(e, c.cases.c.number.label("case_number"), watchlist_templates.c.entry_id.label("t"))
    .join(c.cases, c.cases.c.id == e.c.case_id)
    .outerjoin(watchlist_templates, watchlist_templates.c.entry_id == e.c.id)
)
_ALERT_QUERY = (
    sa.select(a, e.c.label.label("entry_label"), c.cases.c.number.label("case_number"))
    .join(e, e.c.id == a.c.entry_id)
    .join(c.cases, c.cases.c.id == a.c.case_id)
)


def _entry(row: sa.Row[Any]) -> WatchlistEntry:
    m = row._mapping
    reason = m["ended_reason"]
    return record_from(
        WatchlistEntry,
        row,
        kind=EntryKind(m["kind"]),
        status=EntryStatus(m["status"]),
        ended_reason=None if reason is None else EndReason(reason),
        has_template=m["t"] is not None,
    )


def _alert(row: sa.Row[Any]) -> AlertRecord:
    return record_from(AlertRecord, row, delivery=Delivery(row._mapping["delivery"]))


class WatchlistStore(Repository):
    """The ``watchlist_entries``, ``watchlist_templates`` and ``watchlist_alerts`` tables."""

    # --- entries -------------------------------------------------------------------------

    def add(self, entry: NewEntry, vector: Vector) -> int:
        """A new pending entry and its template, in one transaction; returns its id."""
        values = {**record_dict(entry), "status": EntryStatus.PENDING.value}
        with self.db.begin() as conn:
            entry_id = new_id(conn.execute(e.insert().values(**values)))
            conn.execute(
                watchlist_templates.insert().values(
                    entry_id=entry_id,
                    model_id=entry.model_id,
                    dim=int(vector.shape[0]),
                    vector=np.asarray(vector, dtype=np.float32).tobytes(),
                )
            )
        return entry_id

    def get(self, entry_id: int) -> WatchlistEntry | None:
        row = self._first(_ENTRY_QUERY.where(e.c.id == entry_id))
        return None if row is None else _entry(row)

    def listed(
        self, case_ids: Sequence[int] | None, statuses: Sequence[EntryStatus] | None = None
    ) -> list[WatchlistEntry]:
        """Entries of ``case_ids`` (``None``: every case), newest first."""
        query = _ENTRY_QUERY.order_by(e.c.id.desc())
        if case_ids is not None:
            query = query.where(e.c.case_id.in_(list(case_ids)))
        if statuses is not None:
            query = query.where(e.c.status.in_([s.value for s in statuses]))
        return [_entry(r) for r in self._all(query)]

    def approve(self, entry_id: int, by: str, at: str, expires_at: str) -> bool:
        """Activate a pending entry; ``False`` when it is no longer pending."""
        return self._move(
            entry_id,
            EntryStatus.PENDING,
            status=EntryStatus.ACTIVE.value,
            approved_by=by,
            approved_at=at,
            expires_at=expires_at,
        )

    def renew(self, entry_id: int, by: str, at: str, expires_at: str) -> bool:
        """Move an active entry's expiry; ``False`` when it is not active."""
        return self._move(
            entry_id, EntryStatus.ACTIVE, expires_at=expires_at, renewed_by=by, renewed_at=at
        )

    def _move(self, entry_id: int, current: EntryStatus, **values: Any) -> bool:
        """Set ``values`` on the entry if its status is ``current``; whether it was."""
        where = (e.c.id == entry_id, e.c.status == current.value)
        return bool(self._write(e.update().where(*where).values(**values)))

    def end(self, entry_id: int, reason: EndReason, by: str, at: str) -> bool:
        """End an entry and delete its template; ``False`` when it had already ended."""
        with self.db.begin() as conn:
            changed = conn.execute(
                e.update()
                .where(e.c.id == entry_id, e.c.status != EntryStatus.ENDED.value)
                .values(
                    status=EntryStatus.ENDED.value,
                    ended_reason=reason.value,
                    ended_by=by,
                    ended_at=at,
                )
            ).rowcount
            conn.execute(
                watchlist_templates.delete().where(watchlist_templates.c.entry_id == entry_id)
            )
        return bool(changed)

    def active_templates(self, model_id: str, now: str) -> list[tuple[WatchlistEntry, Vector]]:
        """Active, unexpired entries of open cases with a template of ``model_id``."""
        t = watchlist_templates
        query = (
            _ENTRY_QUERY.add_columns(t.c.vector)
            .where(
                e.c.status == EntryStatus.ACTIVE.value,
                e.c.expires_at > now,
                c.cases.c.status == "open",
                t.c.model_id == model_id,
            )
            .order_by(e.c.id)
        )
        return [
            (_entry(r), np.frombuffer(r._mapping["vector"], dtype=np.float32))
            for r in self._all(query)
        ]

    # --- alerts --------------------------------------------------------------------------

    def add_alert(self, alert: NewAlert) -> int | None:
        """Store an alert; ``None`` when this entry already alerted on this face."""
        try:
            return self._insert(a, **record_dict(alert))
        except IntegrityError:
            return None

    def set_alert_audit(self, alert_id: int, seq: int) -> None:
        self._write(a.update().where(a.c.id == alert_id).values(audit_seq=seq))

    def alert(self, alert_id: int) -> AlertRecord | None:
        row = self._first(_ALERT_QUERY.where(a.c.id == alert_id))
        return None if row is None else _alert(row)

    def alerts(
        self, case_ids: Sequence[int] | None, *, entry_id: int | None = None, limit: int = 200
    ) -> list[AlertRecord]:
        """Alerts of ``case_ids`` (``None``: every case), newest first."""
        query = _ALERT_QUERY.order_by(a.c.id.desc()).limit(limit)
        if case_ids is not None:
            query = query.where(a.c.case_id.in_(list(case_ids)))
        if entry_id is not None:
            query = query.where(a.c.entry_id == entry_id)
        return [_alert(r) for r in self._all(query)]

    def undelivered(self) -> list[int]:
        """Ids of the alerts whose webhook delivery is still pending, oldest first."""
        rows = self._all(
            sa.select(a.c.id).where(a.c.delivery == Delivery.PENDING.value).order_by(a.c.id)
        )
        return [int(r[0]) for r in rows]

    def record_delivery(
        self, alert_id: int, delivery: Delivery, attempts: int, error: str | None, at: str | None
    ) -> None:
        """One delivery attempt's outcome: the state, attempts so far, the last error, and
        when it was delivered."""
        self._write(
            a.update()
            .where(a.c.id == alert_id)
            .values(delivery=delivery.value, attempts=attempts, last_error=error, delivered_at=at)
        )
