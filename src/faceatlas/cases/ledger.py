"""What every part of the case desk shares: its stores, audit log and clock, and the one
way a case action is written to the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from faceatlas.accounts import User
from faceatlas.audit import AuditEntry, AuditEvent, AuditLog
from faceatlas.cases.access import CaseAction, CaseGrant, check_case_access
from faceatlas.errors import NotFoundError
from faceatlas.store.case_decisions import DecisionStore
from faceatlas.store.case_records import CaseRecord
from faceatlas.store.cases import CaseStore

__all__ = ["CaseLedger", "iso"]


def iso(moment: datetime) -> str:
    """A moment as stored in the case tables (ISO 8601, milliseconds)."""
    return moment.isoformat(timespec="milliseconds")


class CaseLedger:
    """The case and decision stores, the audit log and the clock."""

    def __init__(
        self,
        store: CaseStore,
        decisions: DecisionStore,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.decision_store = decisions
        self.audit = audit
        self.clock = clock

    def grant(self, user: User, case_id: int, action: CaseAction) -> CaseGrant:
        return check_case_access(self.store, user, self.case_by_id(case_id), action)

    def case_by_id(self, case_id: int) -> CaseRecord:
        case = self.store.by_id(case_id)
        if case is None:
            raise NotFoundError(f"case {case_id} not found")
        return case

    def record(self, user: User, case: CaseRecord, action: str, **details: Any) -> AuditEntry:
        """Append one audit entry for ``action`` on ``case`` by ``user``."""
        return self.audit.append(
            AuditEvent(
                actor=user.username,
                actor_role=user.role.value,
                actor_unit=user.unit,
                action=action,
                case_number=case.number,
                purpose=case.purpose,
                details=details,
            )
        )
