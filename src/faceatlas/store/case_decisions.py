"""Repository of examiner decisions and verifications: every statement on them lives here.

Rows are written once, with the SHA-256 of their content
(:func:`faceatlas.store.case_records.content_sha256`); only the sequence number of their
audit entry is set afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from faceatlas.errors import ConflictError
from faceatlas.store import schema_cases as t
from faceatlas.store.case_records import (
    Conclusion,
    DecisionRecord,
    VerificationRecord,
    content_sha256,
)
from faceatlas.store.rows import Repository, new_id, record_from

__all__ = ["DecisionStore"]


def _decision(row: sa.Row[Any]) -> DecisionRecord:
    m = row._mapping
    return record_from(
        DecisionRecord, row, conclusion=Conclusion(m["conclusion"]), form=json.loads(m["form"])
    )


def _verification(row: sa.Row[Any]) -> VerificationRecord:
    m = row._mapping
    return record_from(
        VerificationRecord,
        row,
        conclusion=Conclusion(m["conclusion"]),
        agrees=bool(m["agrees"]),
        form=json.loads(m["form"]),
    )


class _Hashed(Protocol):
    def content(self) -> dict[str, Any]: ...


H = TypeVar("H", bound=_Hashed)


def _form_json(form: dict[str, Any]) -> str:
    return json.dumps(form, sort_keys=True, separators=(",", ":"))


_DECISIONS_OF_CASE = (
    sa.select(t.case_decisions)
    .join(t.case_candidates, t.case_candidates.c.id == t.case_decisions.c.candidate_id)
    .join(t.case_searches, t.case_searches.c.id == t.case_candidates.c.search_id)
)


class DecisionStore(Repository):
    """Typed reads and writes of the decision and verification tables."""

    def add_decision(
        self,
        candidate_id: int,
        examiner: str,
        conclusion: Conclusion,
        form: dict[str, Any],
        reason: str,
        at: str,
    ) -> DecisionRecord:
        """Insert a decision with its content hash; a second one on a candidate conflicts."""
        try:
            return self._insert_hashed(
                t.case_decisions,
                lambda row_id, digest: DecisionRecord(
                    row_id, candidate_id, examiner, conclusion, form, reason, at, digest, None
                ),
            )
        except IntegrityError as exc:
            raise ConflictError(
                f"candidate {candidate_id} already has a decision: verify it instead"
            ) from exc

    def add_verification(
        self,
        decision: DecisionRecord,
        verifier: str,
        conclusion: Conclusion,
        form: dict[str, Any],
        reason: str,
        at: str,
    ) -> VerificationRecord:
        """Insert a verification with its content hash; one per verifier and decision."""
        agrees = conclusion is decision.conclusion
        try:
            return self._insert_hashed(
                t.case_verifications,
                lambda row_id, digest: VerificationRecord(
                    row_id,
                    decision.id,
                    verifier,
                    conclusion,
                    agrees,
                    form,
                    reason,
                    at,
                    digest,
                    None,
                ),
            )
        except IntegrityError as exc:
            raise ConflictError(f"{verifier} already verified decision {decision.id}") from exc

    def _insert_hashed(self, table: sa.Table, record: Callable[[int, str], H]) -> H:
        """Insert the row of ``record(id, hash)``, its examined content, and set its content
        hash, which covers the row's new id, in one transaction."""
        values = {k: v for k, v in record(0, "").content().items() if k not in ("kind", "id")}
        values["form"] = _form_json(values["form"])
        with self.db.begin() as conn:
            row_id = new_id(conn.execute(table.insert().values(**values, content_sha256="")))
            digest = content_sha256(record(row_id, "").content())
            conn.execute(table.update().where(table.c.id == row_id).values(content_sha256=digest))
        return record(row_id, digest)

    def set_audit_seq(self, kind: str, row_id: int, seq: int | None) -> None:
        """Record (or, with ``None``, undo: the row is deleted) the audit entry of a
        ``decision`` or ``verification`` row."""
        table = t.case_decisions if kind == "decision" else t.case_verifications
        with self.db.begin() as conn:
            if seq is None:
                conn.execute(table.delete().where(table.c.id == row_id))
            else:
                conn.execute(table.update().where(table.c.id == row_id).values(audit_seq=seq))

    def decisions(self, case_id: int) -> list[DecisionRecord]:
        q = _DECISIONS_OF_CASE.where(t.case_searches.c.case_id == case_id).order_by(
            t.case_decisions.c.id
        )
        return [_decision(r) for r in self._all(q)]

    def decision(self, decision_id: int) -> tuple[DecisionRecord, int] | None:
        """A decision and the id of its case."""
        q = _DECISIONS_OF_CASE.add_columns(t.case_searches.c.case_id).where(
            t.case_decisions.c.id == decision_id
        )
        return self._one(q, lambda row: (_decision(row), int(row.case_id)))

    def verifications(self, decision_ids: Sequence[int]) -> list[VerificationRecord]:
        q = (
            sa.select(t.case_verifications)
            .where(t.case_verifications.c.decision_id.in_(list(decision_ids)))
            .order_by(t.case_verifications.c.id)
        )
        return [_verification(r) for r in self._all(q)]

    def iter_decisions(self) -> Iterator[DecisionRecord]:
        """Every decision row of every case, oldest first."""
        with self.db.connect() as conn:
            for r in conn.execute(sa.select(t.case_decisions).order_by("id")):
                yield _decision(r)

    def iter_verifications(self) -> Iterator[VerificationRecord]:
        """Every verification row of every case, oldest first."""
        with self.db.connect() as conn:
            for r in conn.execute(sa.select(t.case_verifications).order_by("id")):
                yield _verification(r)
