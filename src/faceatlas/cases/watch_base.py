"""What every part of the watchlist shares: its stores, audit log, searcher and clock, the
access checks on an entry's case, and the one way a watchlist action is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from datetime import UTC, datetime
from typing import Protocol

from faceatlas.accounts import Role, User
from faceatlas.audit import AuditEntry, AuditEvent, AuditLog
from faceatlas.cases.access import CaseAction, check_case_access
from faceatlas.cases.ledger import CaseLedger
from faceatlas.cases.webhook import WebhookDispatcher
from faceatlas.errors import InvalidRequestError, NotFoundError
from faceatlas.gallery import Gallery
from faceatlas.search.searcher import Searcher
from faceatlas.store.case_decisions import DecisionStore
from faceatlas.store.case_records import CaseRecord
from faceatlas.store.cases import CaseStore
from faceatlas.store.watchlists import EntryKind, WatchlistEntry, WatchlistStore
from faceatlas.types import Vector, record

__all__ = ["SYSTEM_ACTOR", "Clock", "SystemClock", "WatchProbe", "WatchRequest", "WatchlistBase"]

SYSTEM_ACTOR = "watchlist"
"""The actor of the audit entries the watchlist writes by itself (alerts, purges)."""


class Clock(Protocol):
    """Where the watchlist reads the time (UTC, timezone-aware)."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@record
class WatchProbe:
    """What an entry watches for: one embedding of the atlas's model, and its origin."""

    kind: EntryKind
    vector: Vector = field(repr=False)
    probe_sha256: str | None = None
    identity_id: int | None = None


@record
class WatchRequest:
    """What a requester asks of a new entry: its case, how many days, a label, and a threshold
    (``None``: the one in force; only a stricter one is accepted)."""

    case_number: str
    days: int
    label: str = ""
    threshold: float | None = None


class WatchlistBase:
    """The watchlist's stores, audit log, searcher, clock and webhook."""

    def __init__(
        self, gallery: Gallery, audit: AuditLog, searcher: Searcher, clock: Clock | None = None
    ) -> None:
        self.gallery = gallery
        self.audit = audit
        self.searcher = searcher
        self.clock: Clock = clock or SystemClock()
        """Replace to move time (tests); every rule reads it."""
        db = gallery.catalog.db
        self.store = WatchlistStore(db)
        self.cases = CaseStore(db)
        self.ledger = CaseLedger(self.cases, DecisionStore(db), audit, lambda: self.clock.now())
        self.webhook = WebhookDispatcher(self.store, gallery.settings, self._payload)

    @property
    def max_days(self) -> int:
        return self.gallery.settings.watchlist_max_days

    def _payload(self, alert_id: int) -> dict[str, object] | None:
        raise NotImplementedError

    def _days(self, days: int) -> int:
        if not 1 <= days <= self.max_days:
            raise InvalidRequestError(
                f"a watchlist entry runs 1 to {self.max_days} days at a time, not {days}"
            )
        return days

    def _entry(self, entry_id: int) -> WatchlistEntry:
        entry = self.store.get(entry_id)
        if entry is None:
            raise NotFoundError(f"watchlist entry {entry_id} not found")
        return entry

    def _grant(self, user: User, number: str, action: CaseAction) -> CaseRecord:
        case = self.cases.by_number(number.strip())
        if case is None:
            raise NotFoundError(f"case {number} not found")
        return check_case_access(self.cases, user, case, action).case

    def _case(self, user: User, case_id: int, action: CaseAction) -> CaseRecord:
        case = self.cases.by_id(case_id)
        if case is None:
            raise NotFoundError(f"case {case_id} not found")
        return check_case_access(self.cases, user, case, action).case

    def _readable(self, user: User, number: str | None) -> list[int] | None:
        if number is not None:
            return [self._grant(user, number, CaseAction.READ).id]
        if user.role is Role.ADMIN:
            return None
        units = [user.unit] if user.role.allows(Role.SUPERVISOR) else []
        return [c.id for c in self.cases.listed(user.username, units)]

    def _system_record(
        self, case: CaseRecord, action: str, details: Mapping[str, object]
    ) -> AuditEntry:
        return self.audit.append(
            AuditEvent(
                actor=SYSTEM_ACTOR,
                actor_role="system",
                actor_unit="",
                action=action,
                case_number=case.number,
                purpose=case.purpose,
                details=dict(details),
            )
        )
