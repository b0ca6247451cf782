"""Repository of the case tables: every statement on cases, members, probes, searches,
candidates, decisions and verifications lives here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from faceatlas.errors import ConflictError
from faceatlas.store import schema_cases as t
from faceatlas.store.case_records import (
    CandidateInput,
    CandidateRecord,
    CaseMember,
    CaseProbe,
    CaseRecord,
    CaseRole,
    CaseSearch,
    CaseStatus,
    SearchParams,
)
from faceatlas.store.rows import Repository, new_id, record_from
from faceatlas.types import record

__all__ = ["CaseStore", "NewCase", "NewSearch"]


@record
class NewCase:
    number: str
    purpose: str
    legal_basis: str
    owner: str
    owner_unit: str
    retention_until: str
    created_at: str


@record
class NewSearch(SearchParams):
    candidates: tuple[CandidateInput, ...]


def _case(row: sa.Row[Any]) -> CaseRecord:
    return record_from(CaseRecord, row, status=CaseStatus(row.status))


def _probe(row: sa.Row[Any], with_data: bool) -> CaseProbe:
    data = row._mapping["data"] if with_data else None
    return record_from(CaseProbe, row, data=None if data is None else bytes(data))


_PROBE_COLUMNS = [c for c in t.case_probes.c if c.name != "data"]


class CaseStore(Repository):
    """Typed reads and writes of the case tables over the catalog's database."""

    # --- cases and members ----------------------------------------------------------

    def create(self, new: NewCase) -> CaseRecord:
        """Insert a case and its owner as its first member; a taken number is a conflict."""
        try:
            with self.db.begin() as conn:
                result = conn.execute(
                    t.cases.insert().values(
                        number=new.number,
                        purpose=new.purpose,
                        legal_basis=new.legal_basis,
                        owner=new.owner,
                        owner_unit=new.owner_unit,
                        status=CaseStatus.OPEN.value,
                        retention_until=new.retention_until,
                        created_at=new.created_at,
                    )
                )
                owner = CaseMember(new.owner, CaseRole.OWNER, new.owner, new.created_at)
                _insert_member(conn, new_id(result), owner)
        except IntegrityError as exc:
            raise ConflictError(f"case {new.number} already exists") from exc
        found = self.by_number(new.number)
        assert found is not None
        return found

    def by_number(self, number: str) -> CaseRecord | None:
        return self._one_case(t.cases.c.number == number)

    def by_id(self, case_id: int) -> CaseRecord | None:
        return self._one_case(t.cases.c.id == case_id)

    def _one_case(self, where: sa.ColumnElement[bool]) -> CaseRecord | None:
        return self._one(sa.select(t.cases).where(where), _case)

    def listed(self, username: str, units: Sequence[str] | None) -> list[CaseRecord]:
        """Cases ``username`` is a member of, or whose owner's unit is in ``units``
        (``None``: every case); newest first."""
        q = sa.select(t.cases).order_by(t.cases.c.id.desc())
        if units is not None:
            member = sa.select(t.case_members.c.case_id).where(
                t.case_members.c.username == username
            )
            q = q.where(sa.or_(t.cases.c.id.in_(member), t.cases.c.owner_unit.in_(list(units))))
        return [_case(r) for r in self._all(q)]

    def close(self, case_id: int, closed_by: str, at: str) -> None:
        with self.db.begin() as conn:
            conn.execute(
                t.cases.update()
                .where(t.cases.c.id == case_id)
                .values(status=CaseStatus.CLOSED.value, closed_at=at, closed_by=closed_by)
            )

    def members(self, case_id: int) -> list[CaseMember]:
        q = (
            sa.select(t.case_members)
            .where(t.case_members.c.case_id == case_id)
            .order_by(t.case_members.c.added_at, t.case_members.c.username)
        )
        return [record_from(CaseMember, r, role=CaseRole(r.role)) for r in self._all(q)]

    def member(self, case_id: int, username: str) -> CaseMember | None:
        return next((m for m in self.members(case_id) if m.username == username), None)

    def put_member(self, case_id: int, member: CaseMember) -> None:
        """Add a member, or change an existing member's role."""
        with self.db.begin() as conn:
            key = (t.case_members.c.case_id == case_id) & (
                t.case_members.c.username == member.username
            )
            conn.execute(t.case_members.delete().where(key))
            _insert_member(conn, case_id, member)

    def remove_member(self, case_id: int, username: str) -> int:
        with self.db.begin() as conn:
            return int(
                conn.execute(
                    t.case_members.delete().where(
                        (t.case_members.c.case_id == case_id)
                        & (t.case_members.c.username == username)
                    )
                ).rowcount
            )

    # --- probes and searches ----------------------------------------------------------

    def keep_probe(self, case_id: int, sha256: str, data: bytes, by: str, at: str) -> CaseProbe:
        """The case's probe with this SHA-256, stored now if it is new (by whichever of two
        searches at once stores it first)."""
        same = (t.case_probes.c.case_id == case_id) & (t.case_probes.c.sha256 == sha256)
        try:
            with self.db.begin() as conn:
                row = conn.execute(sa.select(*_PROBE_COLUMNS).where(same)).first()
                if row is not None:
                    return _probe(row, with_data=False)
                probe_id = new_id(
                    conn.execute(
                        t.case_probes.insert().values(
                            case_id=case_id,
                            sha256=sha256,
                            data=data,
                            uploaded_by=by,
                            uploaded_at=at,
                        )
                    )
                )
        except IntegrityError:
            with self.db.connect() as conn:
                return _probe(conn.execute(sa.select(*_PROBE_COLUMNS).where(same)).one(), False)
        return CaseProbe(probe_id, case_id, sha256, by, at, None)

    def probes(self, case_id: int, *, with_data: bool = False) -> list[CaseProbe]:
        columns = list(t.case_probes.c) if with_data else _PROBE_COLUMNS
        q = sa.select(*columns).where(t.case_probes.c.case_id == case_id).order_by("id")
        return [_probe(r, with_data) for r in self._all(q)]

    def erase_probes(self, case_id: int, at: str) -> int:
        """Drop the bytes of the case's probes not yet erased (their SHA-256 stays)."""
        with self.db.begin() as conn:
            return int(
                conn.execute(
                    t.case_probes.update()
                    .where(
                        (t.case_probes.c.case_id == case_id) & t.case_probes.c.erased_at.is_(None)
                    )
                    .values(data=None, erased_at=at)
                ).rowcount
            )

    def due_for_erasure(self, today: str) -> list[CaseRecord]:
        """Closed cases whose retention date is ``today`` or earlier and that still hold
        probe bytes."""
        pending = sa.select(t.case_probes.c.case_id).where(t.case_probes.c.erased_at.is_(None))
        q = sa.select(t.cases).where(
            (t.cases.c.status == CaseStatus.CLOSED.value)
            & (t.cases.c.retention_until <= today)
            & t.cases.c.id.in_(pending)
        )
        return [_case(r) for r in self._all(q)]

    def add_search(self, new: NewSearch) -> CaseSearch:
        """Insert a search and its candidates in one transaction; an audit entry recorded
        twice is a conflict."""
        fields = {n: getattr(new, n) for n in SearchParams.__dataclass_fields__}
        try:
            with self.db.begin() as conn:
                search_id = new_id(conn.execute(t.case_searches.insert().values(**fields)))
                if new.candidates:
                    conn.execute(
                        t.case_candidates.insert(),
                        [{"search_id": search_id, **_candidate_values(c)} for c in new.candidates],
                    )
        except IntegrityError as exc:
            raise ConflictError(
                f"search #{new.audit_seq} is already recorded in a case (or ranks repeat)"
            ) from exc
        return CaseSearch(id=search_id, **fields)

    def searches(self, case_id: int) -> list[CaseSearch]:
        q = sa.select(t.case_searches).where(t.case_searches.c.case_id == case_id).order_by("id")
        return [record_from(CaseSearch, r) for r in self._all(q)]

    def candidates(self, case_id: int) -> list[CandidateRecord]:
        q = (
            sa.select(t.case_candidates)
            .join(t.case_searches, t.case_searches.c.id == t.case_candidates.c.search_id)
            .where(t.case_searches.c.case_id == case_id)
            .order_by(t.case_candidates.c.search_id, t.case_candidates.c.rank)
        )
        return [record_from(CandidateRecord, r) for r in self._all(q)]

    def candidate(self, candidate_id: int) -> tuple[CandidateRecord, int] | None:
        """A candidate and the id of its case."""
        q = (
            sa.select(t.case_candidates, t.case_searches.c.case_id)
            .join(t.case_searches, t.case_searches.c.id == t.case_candidates.c.search_id)
            .where(t.case_candidates.c.id == candidate_id)
        )
        return self._one(q, lambda row: (record_from(CandidateRecord, row), int(row.case_id)))


def _insert_member(conn: sa.Connection, case_id: int, member: CaseMember) -> None:
    conn.execute(
        t.case_members.insert().values(
            case_id=case_id,
            username=member.username,
            role=member.role.value,
            added_by=member.added_by,
            added_at=member.added_at,
        )
    )


def _candidate_values(c: CandidateInput) -> dict[str, Any]:
    return {n: getattr(c, n) for n in CandidateInput.__dataclass_fields__}
