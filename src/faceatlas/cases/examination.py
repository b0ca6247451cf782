"""Examiner decisions and their two-person verification (ACE-V's last step).

An examiner records one decision per candidate: excluded, inconclusive or possible lead,
with the FISWG comparison form it rests on and a reason. A second, different examiner
verifies it by recording their own conclusion; whether it agrees is kept, and a
disagreement is shown. Nobody verifies their own decision
(:class:`faceatlas.errors.SelfVerificationError`).

**Blind verification.** While a case is open, a decision that no one has verified yet is
*sealed* from every member other than its examiner: they see that it exists, who made it and
when, never its conclusion, form or reason. The first verifier therefore records their own
conclusion without knowing the first one; once a verification is recorded, the decision and
every verification (agreeing or not) are shown to every reader. Reviewers who are not
members (and so cannot verify) always see everything, and so does everyone once the case is
closed. A *verified lead* is a possible lead whose verifications all agree.

Each decision and verification row carries the SHA-256 of its content; its audit entry
(``case_decision`` or ``case_verification``) records that hash, so an edited row is found by
:func:`faceatlas.audit.records.check_case_records` (run by ``AuditLog.verify``).
"""

from __future__ import annotations

from typing import Any

from faceatlas.accounts import User
from faceatlas.cases.access import CaseAction, CaseGrant, check_access
from faceatlas.cases.ledger import CaseLedger, iso
from faceatlas.cases.records import (
    ComparisonForm,
    DecisionView,
    VerificationTask,
    checked_text,
)
from faceatlas.errors import NotFoundError, SelfVerificationError
from faceatlas.store.case_records import CaseRecord, CaseStatus, Conclusion, DecisionRecord

__all__ = ["Examinations"]


class Examinations:
    """Decisions on a case's candidates and their verification."""

    def __init__(self, ledger: CaseLedger) -> None:
        self.ledger = ledger

    # --- decisions and verification ------------------------------------------------------

    def decide(
        self,
        user: User,
        candidate_id: int,
        conclusion: Conclusion,
        form: ComparisonForm,
        reason: str,
    ) -> DecisionView:
        """Record an examiner's decision on a candidate, with the comparison it rests on."""
        found = self.ledger.store.candidate(candidate_id)
        if found is None:
            raise NotFoundError(f"candidate {candidate_id} not found")
        candidate, case_id = found
        self.ledger.grant(user, case_id, CaseAction.EXAMINE)
        form.check_supports(conclusion)
        text = checked_text(reason, "the reason", required=True)
        decision = self.ledger.decision_store.add_decision(
            candidate.id, user.username, conclusion, form.as_dict(), text, iso(self.ledger.clock())
        )
        case = self.ledger.case_by_id(case_id)
        self._chain(user, case, "decision", decision.id, decision.content_sha256, candidate.id)
        return DecisionView.as_seen(self._decision(decision.id), (), sealed=False)

    def decisions(self, user: User, number: str) -> list[DecisionView]:
        """Every decision of the case as ``user`` may see it (see *blind verification*)."""
        grant = check_access(self.ledger.store, user, number, CaseAction.READ)
        records = self.ledger.decision_store.decisions(grant.case.id)
        verifications = self.ledger.decision_store.verifications([d.id for d in records])
        views = []
        for d in records:
            mine = tuple(v for v in verifications if v.decision_id == d.id)
            views.append(DecisionView.as_seen(d, mine, sealed=_sealed(grant, user, d, bool(mine))))
        return views

    def verification_task(self, user: User, decision_id: int) -> VerificationTask:
        """What ``user`` compares before verifying: never the first conclusion."""
        decision, grant = self._verifiable(user, decision_id)
        found = self.ledger.store.candidate(decision.candidate_id)
        assert found is not None
        candidate = found[0]
        search = next(
            s for s in self.ledger.store.searches(grant.case.id) if s.id == candidate.search_id
        )
        probe = next(p for p in self.ledger.store.probes(grant.case.id) if p.id == search.probe_id)
        return VerificationTask(
            case_number=grant.case.number,
            decision_id=decision.id,
            examiner=decision.examiner,
            decided_at=decision.decided_at,
            candidate=candidate,
            probe_sha256=probe.sha256,
            model_id=search.model_id,
            threshold=search.threshold,
        )

    def verify(
        self,
        user: User,
        decision_id: int,
        conclusion: Conclusion,
        form: ComparisonForm,
        reason: str,
    ) -> DecisionView:
        """Record a second examiner's own conclusion on a decision; returns the decision,
        now shown to them with every verification and whether they agree."""
        decision, grant = self._verifiable(user, decision_id)
        form.check_supports(conclusion)
        text = checked_text(reason, "the reason", required=True)
        verification = self.ledger.decision_store.add_verification(
            decision, user.username, conclusion, form.as_dict(), text, iso(self.ledger.clock())
        )
        self._chain(
            user,
            grant.case,
            "verification",
            verification.id,
            verification.content_sha256,
            decision.candidate_id,
            decision_id=decision.id,
            agrees=verification.agrees,
        )
        return next(
            v for v in self.decisions(user, grant.case.number) if v.decision_id == decision_id
        )

    def _verifiable(self, user: User, decision_id: int) -> tuple[DecisionRecord, CaseGrant]:
        found = self.ledger.decision_store.decision(decision_id)
        if found is None:
            raise NotFoundError(f"decision {decision_id} not found")
        decision, case_id = found
        grant = self.ledger.grant(user, case_id, CaseAction.VERIFY)
        if decision.examiner == user.username:
            raise SelfVerificationError(
                f"decision {decision_id} is your own: a second, different examiner verifies it"
            )
        return decision, grant

    def _decision(self, decision_id: int) -> DecisionRecord:
        found = self.ledger.decision_store.decision(decision_id)
        assert found is not None
        return found[0]

    def _chain(
        self,
        user: User,
        case: CaseRecord,
        kind: str,
        row_id: int,
        digest: str,
        candidate_id: int,
        **details: Any,
    ) -> None:
        """Append the audit entry of a decision or verification row and link the row to it;
        a row whose entry could not be appended is removed."""
        try:
            entry = self.ledger.record(
                user,
                case,
                f"case_{kind}",
                **{f"{kind}_id": row_id},
                candidate_id=candidate_id,
                content_sha256=digest,
                **details,
            )
        except Exception:
            self.ledger.decision_store.set_audit_seq(kind, row_id, None)
            raise
        self.ledger.decision_store.set_audit_seq(kind, row_id, entry.seq)


def _sealed(grant: CaseGrant, user: User, d: DecisionRecord, verified: bool) -> bool:
    return (
        grant.case.status is CaseStatus.OPEN
        and grant.member is not None
        and d.examiner != user.username
        and not verified
    )
