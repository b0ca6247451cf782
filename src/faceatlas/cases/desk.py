"""The case desk: the rules of cases, examiner decisions and two-person verification.

Every front end reaches cases through one :class:`CaseDesk`. Who may do what is
:mod:`faceatlas.cases.access`. Case creation, closing, membership changes, recorded searches,
probe erasure, decisions and verifications each append an entry to the hash-chained audit
log; a decision's or verification's entry carries the SHA-256 of the row's content, which
:func:`faceatlas.audit.records.check_case_records` compares with the row.

**Retention.** A case's probe photos are kept while it is open, whatever its retention
date. Closing the case erases them at once when the retention date has come (or when the
closer asks for it); otherwise :meth:`CaseDesk.apply_retention`, run on a schedule, erases
them on the retention date. Erasing drops the bytes and keeps the SHA-256, the searches,
candidates and decisions: the accountability record outlives the photo.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from faceatlas.accounts import Accounts, Role, User
from faceatlas.audit import AuditEvent, AuditLog
from faceatlas.cases.access import CaseAction, check_access
from faceatlas.cases.examination import Examinations
from faceatlas.cases.ledger import CaseLedger, iso
from faceatlas.cases.records import (
    SearchInput,
    checked_text,
)
from faceatlas.config import Settings
from faceatlas.errors import (
    CaseRequiredError,
    InvalidRequestError,
    NotFoundError,
)
from faceatlas.store.case_decisions import DecisionStore
from faceatlas.store.case_records import (
    CandidateRecord,
    CaseMember,
    CaseProbe,
    CaseRecord,
    CaseRole,
    CaseSearch,
    CaseStatus,
)
from faceatlas.store.cases import CaseStore, NewCase, NewSearch
from faceatlas.store.rows import Database
from faceatlas.types import record_as

__all__ = ["CaseDesk"]


class CaseDesk(Examinations):
    """Cases over the catalog's database, its audit log and its accounts; decisions and
    verification come from :class:`~faceatlas.cases.examination.Examinations`."""

    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        accounts: Accounts,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(CaseLedger(CaseStore(db), DecisionStore(db), audit, clock))
        self.store = self.ledger.store
        self.audit = audit
        self.accounts = accounts
        self.settings = settings
        self.clock = clock

    # --- cases ------------------------------------------------------------------------

    def open_case(
        self, user: User, number: str, purpose: str, legal_basis: str, retention_until: date
    ) -> CaseRecord:
        """Open a case owned by ``user``; the number follows ``case_number_pattern`` and the
        purpose is one of ``search_purposes``."""
        number = number.strip()
        if re.fullmatch(self.settings.case_number_pattern, number) is None:
            raise CaseRequiredError(
                f"case number {number!r} has an invalid format (letters, digits, '.', '_', "
                "'/', '-'; 3-64 characters)"
            )
        purpose = purpose.strip()
        if purpose not in self.settings.search_purposes:
            raise CaseRequiredError(
                "a case needs a purpose from the list: " + "; ".join(self.settings.search_purposes)
            )
        basis = checked_text(legal_basis, "the legal basis", required=True)
        now = self.clock()
        if retention_until < now.date():
            raise InvalidRequestError("the retention date is in the past")
        case = self.store.create(
            NewCase(
                number,
                purpose,
                basis,
                user.username,
                user.unit,
                retention_until.isoformat(),
                iso(now),
            )
        )
        self.ledger.record(
            user,
            case,
            "case_created",
            legal_basis=basis,
            retention_until=case.retention_until,
        )
        return case

    def case(self, user: User, number: str) -> CaseRecord:
        return check_access(self.store, user, number, CaseAction.READ).case

    def cases(self, user: User) -> list[CaseRecord]:
        """Cases ``user`` is a member of, or reviews; newest first."""
        if user.role is Role.ADMIN:
            return self.store.listed(user.username, None)
        units = [user.unit] if user.role.allows(Role.SUPERVISOR) else []
        return self.store.listed(user.username, units)

    def require_search(self, user: User, number: str) -> CaseRecord:
        """The open case ``number`` if ``user`` may search for it (before a search runs)."""
        return check_access(self.store, user, number, CaseAction.SEARCH).case

    def close_case(self, user: User, number: str, *, erase_probes: bool = False) -> CaseRecord:
        """Close a case; its probes are erased now if its retention date has come or
        ``erase_probes`` asks for it, else on the retention date."""
        case = check_access(self.store, user, number, CaseAction.MANAGE).case
        if case.status is CaseStatus.CLOSED:
            return case
        now = self.clock()
        self.store.close(case.id, user.username, iso(now))
        self.ledger.record(user, case, "case_closed", retention_until=case.retention_until)
        if erase_probes or case.retention_until <= now.date().isoformat():
            self._erase(user.username, user.role.value, user.unit, case, now)
        closed = self.store.by_id(case.id)
        assert closed is not None
        return closed

    def apply_retention(self, today: date | None = None, actor: str = "retention") -> int:
        """Erase the probes of closed cases whose retention date has come; returns the
        number of probe photos erased. Safe to run as often as wanted."""
        now = self.clock()
        day = (today or now.date()).isoformat()
        erased = 0
        for case in self.store.due_for_erasure(day):
            erased += self._erase(actor, "operator", "", case, now)
        return erased

    def _erase(self, actor: str, role: str, unit: str, case: CaseRecord, now: datetime) -> int:
        erased = self.store.erase_probes(case.id, iso(now))
        if erased:
            self.audit.append(
                AuditEvent(
                    actor=actor,
                    actor_role=role,
                    actor_unit=unit,
                    action="case_probes_erased",
                    case_number=case.number,
                    purpose=case.purpose,
                    details={"probes": erased, "retention_until": case.retention_until},
                )
            )
        return erased

    # --- members ------------------------------------------------------------------------

    def members(self, user: User, number: str) -> list[CaseMember]:
        case = check_access(self.store, user, number, CaseAction.READ).case
        return self.store.members(case.id)

    def add_member(self, user: User, number: str, username: str, role: CaseRole) -> CaseMember:
        """Add an active user to the case (or change their role); the owner stays owner."""
        case = check_access(self.store, user, number, CaseAction.MANAGE).case
        target = self.accounts.by_name(username)
        if not target.active:
            raise InvalidRequestError(f"user {target.username} is deactivated")
        if role is CaseRole.OWNER or target.username == case.owner:
            raise InvalidRequestError("a case has one owner, who keeps that role")
        member = CaseMember(target.username, role, user.username, iso(self.clock()))
        self.store.put_member(case.id, member)
        self.ledger.record(user, case, "case_member_added", member=target.username, role=role.value)
        return member

    def remove_member(self, user: User, number: str, username: str) -> None:
        case = check_access(self.store, user, number, CaseAction.MANAGE).case
        name = username.strip().lower()
        if name == case.owner:
            raise InvalidRequestError("the owner cannot be removed from their case")
        if not self.store.remove_member(case.id, name):
            raise NotFoundError(f"{name} is not a member of case {case.number}")
        self.ledger.record(user, case, "case_member_removed", member=name)

    # --- searches ----------------------------------------------------------------------

    def record_search(self, user: User, number: str, search: SearchInput) -> CaseSearch:
        """Keep an audited search of this case: its probe photo and its candidates.

        ``search.audit_seq`` must name a ``search`` entry of this case, by this user, for
        this probe photo: a search is recorded once, into the case it was made for.
        """
        case = check_access(self.store, user, number, CaseAction.SEARCH).case
        sha = hashlib.sha256(search.probe).hexdigest()
        self._check_search_entry(user, case, search.audit_seq, sha)
        now = iso(self.clock())
        probe = self.store.keep_probe(case.id, sha, search.probe, user.username, now)
        ranks = [c.rank for c in search.candidates]
        if len(set(ranks)) != len(ranks):
            raise InvalidRequestError("candidate ranks repeat")
        recorded = self.store.add_search(
            record_as(
                NewSearch,
                search,
                case_id=case.id,
                probe_id=probe.id,
                searched_by=user.username,
                recorded_at=now,
            )
        )
        self.ledger.record(
            user,
            case,
            "case_search_recorded",
            search_seq=search.audit_seq,
            probe_sha256=sha,
            candidate_face_ids=[c.face_id for c in search.candidates],
        )
        return recorded

    def _check_search_entry(self, user: User, case: CaseRecord, seq: int, sha: str) -> None:
        found = self.audit.entries(before_seq=seq + 1, limit=1)
        entry = found[0] if found and found[0].seq == seq else None
        if entry is None or entry.action != "search":
            raise InvalidRequestError(f"audit entry #{seq} is not a search")
        if entry.case_number != case.number or entry.actor != user.username:
            raise InvalidRequestError(
                f"search #{seq} was not made by {user.username} for case {case.number}"
            )
        shas = [entry.details.get("probe_sha256"), *entry.details.get("probe_sha256s", [])]
        if sha not in shas:
            raise InvalidRequestError(f"search #{seq} was not made with this probe photo")

    def searches(self, user: User, number: str) -> list[CaseSearch]:
        return self.store.searches(self.case(user, number).id)

    def candidates(self, user: User, number: str) -> list[CandidateRecord]:
        return self.store.candidates(self.case(user, number).id)

    def probes(self, user: User, number: str, *, with_data: bool = False) -> list[CaseProbe]:
        return self.store.probes(self.case(user, number).id, with_data=with_data)
