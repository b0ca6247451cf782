"""Cases as every front end uses them: open, list, show, members, close, examiner decisions,
blind verification, the side-by-side comparison and the case report, on plain inputs.

The rules live in :class:`faceatlas.cases.CaseDesk` (who may do what, blind verification,
never one's own decision, the audit chain); this layer parses what front ends send (strings,
mappings, dates) and hands back plain records.

**Every search belongs to a case.** Before a search by face, :meth:`CaseService.admit_search`
checks that the user may search for the case (members with the role owner or examiner; a
closed case refuses). A case number that no case has yet opens a case for the searcher, who
owns it (the search's purpose, the legal basis "not stated (opened by a search)", retention
for ``retention_probe_days``), audited ``case_created``. After the audited search,
:meth:`CaseService.record_search` keeps the probe photo and the candidates in the case. Identity
searches (:class:`~faceatlas.services.IdentityDesk`) name a case number in their audit entry
but are not recorded into cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faceatlas.accounts import User
from faceatlas.atlas import Atlas
from faceatlas.audit import AuditEntry
from faceatlas.cases import (
    CandidateInput,
    CaseAction,
    CaseRecord,
    CaseRole,
    CaseStatus,
    ComparisonForm,
    Conclusion,
    DecisionStatus,
    DecisionView,
    Feature,
    Finding,
    SearchInput,
    VerificationTask,
    build_report,
    parse_conclusion,
    render_html,
    render_pdf,
)
from faceatlas.errors import AuthenticationError, ConflictError, InvalidRequestError
from faceatlas.search import SearchResult
from faceatlas.services.accounts import local_operator
from faceatlas.services.case_comparison import Comparison, compare
from faceatlas.services.gate import EngineGate
from faceatlas.store.case_records import (
    CandidateRecord,
    CaseMember,
    CaseProbe,
    CaseSearch,
    VerificationRecord,
)
from faceatlas.types import record, record_as, record_dict

__all__ = [
    "OPENED_BY_SEARCH",
    "CandidateRecord",
    "CaseMember",
    "CaseRecord",
    "CaseRole",
    "CaseSearch",
    "CaseService",
    "CaseStatus",
    "CaseView",
    "Conclusion",
    "DecisionStatus",
    "DecisionView",
    "Feature",
    "Finding",
    "Submission",
    "VerificationRecord",
    "VerificationTask",
    "candidates_of",
    "parse_case_role",
]
"""The case vocabulary front ends use comes from here, beside the service."""

OPENED_BY_SEARCH = "not stated (opened by a search)"
"""The legal basis of a case that a search opened."""


def parse_case_role(value: object) -> CaseRole:
    try:
        return CaseRole(str(value).strip())
    except ValueError:
        allowed = ", ".join(r.value for r in CaseRole)
        raise InvalidRequestError(
            f"the case role must be one of {allowed}, not {value!r}"
        ) from None


def candidates_of(result: SearchResult) -> tuple[CandidateInput, ...]:
    """A search's hits as the cases core records them: plain scores and error estimates."""
    return tuple(
        record_as(
            CandidateInput,
            h,
            estimated_fpir=None if h.estimated_fpir is None else h.estimated_fpir.fpir,
            estimated_fpir_upper=None if h.estimated_fpir is None else h.estimated_fpir.fpir_upper,
        )
        for h in result.hits
    )


@record
class Submission:
    """An examiner's conclusion on a candidate as a front end received it: the conclusion,
    a finding per FISWG feature (:class:`ComparisonForm`), notes and the reason."""

    conclusion: object
    features: Mapping[str, object]
    reason: str
    notes: object = ""

    def parse(self) -> tuple[Conclusion, ComparisonForm]:
        return parse_conclusion(self.conclusion), ComparisonForm.parse(self.features, self.notes)


@record
class CaseView:
    """A case as one reader may see it: members, probes (hashes, never bytes), searches,
    candidates, and decisions (sealed ones stay sealed)."""

    case: CaseRecord
    members: tuple[CaseMember, ...]
    probes: tuple[CaseProbe, ...]
    searches: tuple[CaseSearch, ...]
    candidates: tuple[CandidateRecord, ...]
    decisions: tuple[DecisionView, ...]

    def decision_for(self, candidate_id: int) -> DecisionView | None:
        return next((d for d in self.decisions if d.candidate_id == candidate_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.case.as_dict(),
            "members": [m.as_dict() for m in self.members],
            "probes": [
                {k: v for k, v in record_dict(p).items() if k != "data"} for p in self.probes
            ],
            "searches": [s.as_dict() for s in self.searches],
            "candidates": [c.as_dict() for c in self.candidates],
            "decisions": [d.as_dict() for d in self.decisions],
        }


class CaseService:
    """The case use cases over one atlas; engine work (comparisons) takes the engine gate."""

    def __init__(self, atlas: Atlas, gate: EngineGate) -> None:
        self.atlas = atlas
        self.gate = gate
        self.desk = atlas.cases

    def acting(self, username: str | None, password: str | None = None) -> User:
        """Who a command-line case command acts as: the account ``username``, signed in with
        its password (case work is personal: a decision and its verification need two
        people, each proving who they are), else the local operator (``cli:<os user>``)."""
        if username is None:
            return local_operator()
        if not password:
            raise AuthenticationError(f"acting as {username} needs that account's password")
        return self.atlas.accounts.authenticate(username, password)

    # --- cases ---------------------------------------------------------------------------

    def open(
        self,
        user: User,
        number: str,
        purpose: str,
        legal_basis: str,
        retention_until: date | str | None = None,
    ) -> CaseRecord:
        """Open a case owned by ``user``; retention defaults to ``retention_probe_days``
        from today, and a string date must be ISO (``YYYY-MM-DD``)."""
        return self.desk.open_case(user, number, purpose, legal_basis, self._date(retention_until))

    def _date(self, value: date | str | None) -> date:
        if value is None or value == "":
            days = self.atlas.settings.retention_probe_days
            return datetime.now(UTC).date() + timedelta(days=days)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidRequestError(
                f"the retention date must be YYYY-MM-DD, not {value!r}"
            ) from None

    def cases(self, user: User) -> list[CaseRecord]:
        """The cases ``user`` is a member of or reviews, newest first."""
        return self.desk.cases(user)

    def number_of(self, user: User, case_id: int) -> str:
        """The number of case ``case_id`` if ``user`` may read it (``not_found`` otherwise)."""
        return self.desk.ledger.grant(user, case_id, CaseAction.READ).case.number

    def show(self, user: User, number: str) -> CaseView:
        case = self.desk.case(user, number)
        return CaseView(
            case=case,
            members=tuple(self.desk.members(user, case.number)),
            probes=tuple(self.desk.probes(user, case.number)),
            searches=tuple(self.desk.searches(user, case.number)),
            candidates=tuple(self.desk.candidates(user, case.number)),
            decisions=tuple(self.desk.decisions(user, case.number)),
        )

    def add_member(self, user: User, number: str, username: str, role: object) -> CaseMember:
        return self.desk.add_member(user, number, username, parse_case_role(role))

    def remove_member(self, user: User, number: str, username: str) -> None:
        self.desk.remove_member(user, number, username)

    def close(self, user: User, number: str, *, erase_probes: bool = False) -> CaseRecord:
        return self.desk.close_case(user, number, erase_probes=erase_probes)

    # --- decisions and verification ------------------------------------------------------

    def decide(self, user: User, candidate_id: int, submitted: Submission) -> DecisionView:
        """Record an examiner's decision on a candidate."""
        conclusion, form = submitted.parse()
        return self.desk.decide(user, candidate_id, conclusion, form, submitted.reason)

    def decisions(self, user: User, number: str) -> list[DecisionView]:
        return self.desk.decisions(user, number)

    def verification_task(self, user: User, decision_id: int) -> VerificationTask:
        return self.desk.verification_task(user, decision_id)

    def verify(self, user: User, decision_id: int, submitted: Submission) -> DecisionView:
        """Record a second examiner's own conclusion (never on their own decision)."""
        conclusion, form = submitted.parse()
        return self.desk.verify(user, decision_id, conclusion, form, submitted.reason)

    # --- comparison and report -----------------------------------------------------------

    def comparison(self, user: User, candidate_id: int) -> Comparison:
        """Probe face and candidate side by side (see :mod:`faceatlas.services.case_comparison`)."""
        with self.gate.shared():
            return compare(self.atlas, self.desk, user, candidate_id)

    def report_html(self, user: User, number: str) -> bytes:
        """The case report as one self-contained HTML page (UTF-8); the export is audited."""
        report = build_report(self.desk, self.atlas.catalog, user, number)
        return render_html(report).encode("utf-8")

    def report_pdf(self, user: User, number: str) -> bytes:
        """The case report as PDF; the export is audited."""
        return render_pdf(build_report(self.desk, self.atlas.catalog, user, number))

    # --- searches ------------------------------------------------------------------------

    def admit_search(self, user: User, number: str, purpose: str) -> CaseRecord:
        """The open case ``number`` if ``user`` may search for it; a number no case has yet
        opens one for ``user`` (see the module docstring)."""
        if self.desk.store.by_number(number.strip()) is None:
            try:
                return self.desk.open_case(
                    user, number, purpose, OPENED_BY_SEARCH, self._date(None)
                )
            except ConflictError:  # another search opened it a moment ago
                pass
        return self.desk.require_search(user, number)

    def record_search(
        self, user: User, number: str, entry: AuditEntry, probe: bytes, result: SearchResult
    ) -> CaseSearch:
        """Keep an audited search (its ``search`` entry, probe photo and hits) in its case."""
        return self.desk.record_search(
            user,
            number,
            SearchInput(
                audit_seq=entry.seq,
                probe=probe,
                model_id=result.model_id,
                threshold=result.threshold,
                threshold_source=result.threshold_source,
                candidates=candidates_of(result),
            ),
        )
