"""Repository of examiner decisions and verifications: every statement on them lives here.

Rows are written once, with the SHA-256 of their content
(:func:`faceatlas.store.case_records.content_sha256`); only the sequence number of their
audit entry is set afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

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

__all__ = ["DecisionStore", "new_id"]


def _decision(m: sa.RowMapping) -> DecisionRecord:
    return DecisionRecord(
        id=int(m["id"]),
        candidate_id=int(m["candidate_id"]),
        examiner=m["examiner"],
        conclusion=Conclusion(m["conclusion"]),
        form=json.loads(m["form"]),
        reason=m["reason"],
        decided_at=m["decided_at"],
        content_sha256=m["content_sha256"],
        audit_seq=None if m["audit_seq"] is None else int(m["audit_seq"]),
    )


def _verification(m: sa.RowMapping) -> VerificationRecord:
    return VerificationRecord(
        id=int(m["id"]),
        decision_id=int(m["decision_id"]),
        verifier=m["verifier"],
        conclusion=Conclusion(m["conclusion"]),
        agrees=bool(m["agrees"]),
        form=json.loads(m["form"]),
        reason=m["reason"],
        verified_at=m["verified_at"],
        content_sha256=m["content_sha256"],
        audit_seq=None if m["audit_seq"] is None else int(m["audit_seq"]),
    )


def _form_json(form: dict[str, Any]) -> str:
    return json.dumps(form, sort_keys=True, separators=(",", ":"))


_DECISIONS_OF_CASE = (
    sa.select(t.case_decisions)
    .join(t.case_candidates, t.case_candidates.c.id == t.case_decisions.c.candidate_id)
    .join(t.case_searches, t.case_searches.c.id == t.case_candidates.c.search_id)
)


class DecisionStore:
    """Typed reads and writes of the decision and verification tables."""

    def __init__(self, db: sa.Engine) -> None:
        self.db = db

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
        values = {
            "candidate_id": candidate_id,
            "examiner": examiner,
            "conclusion": conclusion.value,
            "form": _form_json(form),
            "reason": reason,
            "decided_at": at,
        }
        try:
            with self.db.begin() as conn:
                row_id = new_id(
                    conn.execute(t.case_decisions.insert().values(**values, content_sha256=""))
                )
                record = DecisionRecord(
                    row_id, candidate_id, examiner, conclusion, form, reason, at, "", None
                )
                digest = content_sha256(record.content())
                conn.execute(
                    t.case_decisions.update()
                    .where(t.case_decisions.c.id == row_id)
                    .values(content_sha256=digest)
                )
        except IntegrityError as exc:
            raise ConflictError(
                f"candidate {candidate_id} already has a decision: verify it instead"
            ) from exc
        return DecisionRecord(
            row_id, candidate_id, examiner, conclusion, form, reason, at, digest, None
        )

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
        values = {
            "decision_id": decision.id,
            "verifier": verifier,
            "conclusion": conclusion.value,
            "agrees": agrees,
            "form": _form_json(form),
            "reason": reason,
            "verified_at": at,
        }
        try:
            with self.db.begin() as conn:
                row_id = new_id(
                    conn.execute(t.case_verifications.insert().values(**values, content_sha256=""))
                )
                record = VerificationRecord(
                    row_id, decision.id, verifier, conclusion, agrees, form, reason, at, "", None
                )
                digest = content_sha256(record.content())
                conn.execute(
                    t.case_verifications.update()
                    .where(t.case_verifications.c.id == row_id)
                    .values(content_sha256=digest)
                )
        except IntegrityError as exc:
            raise ConflictError(f"{verifier} already verified decision {decision.id}") from exc
        return VerificationRecord(
            row_id, decision.id, verifier, conclusion, agrees, form, reason, at, digest, None
        )

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
        with self.db.connect() as conn:
            return [_decision(r._mapping) for r in conn.execute(q).all()]

    def decision(self, decision_id: int) -> tuple[DecisionRecord, int] | None:
        """A decision and the id of its case."""
        q = _DECISIONS_OF_CASE.add_columns(t.case_searches.c.case_id).where(
            t.case_decisions.c.id == decision_id
        )
        with self.db.connect() as conn:
            row = conn.execute(q).first()
        return None if row is None else (_decision(row._mapping), int(row.case_id))

    def verifications(self, decision_ids: Sequence[int]) -> list[VerificationRecord]:
        q = (
            sa.select(t.case_verifications)
            .where(t.case_verifications.c.decision_id.in_(list(decision_ids)))
            .order_by(t.case_verifications.c.id)
        )
        with self.db.connect() as conn:
            return [_verification(r._mapping) for r in conn.execute(q).all()]

    def iter_decisions(self) -> Iterator[DecisionRecord]:
        """Every decision row of every case, oldest first."""
        with self.db.connect() as conn:
            for r in conn.execute(sa.select(t.case_decisions).order_by("id")):
                yield _decision(r._mapping)

    def iter_verifications(self) -> Iterator[VerificationRecord]:
        """Every verification row of every case, oldest first."""
        with self.db.connect() as conn:
            for r in conn.execute(sa.select(t.case_verifications).order_by("id")):
                yield _verification(r._mapping)


def new_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an insert made."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
