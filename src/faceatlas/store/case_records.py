"""Plain records of the case tables, their vocabulary, and the content hash of a decision or
verification row.

The content hash is the SHA-256 of a row's canonical JSON (sorted keys, no spaces) over the
fields an examiner decided: it is stored in the row and recorded in the row's audit entry, so
an edit of the row (or of the row and its stored hash together) disagrees with the log.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any, ClassVar

from faceatlas.types import JsonRecord, record, record_dict

__all__ = [
    "CandidateInput",
    "CandidateRecord",
    "CaseMember",
    "CaseProbe",
    "CaseRecord",
    "CaseRole",
    "CaseSearch",
    "CaseStatus",
    "Conclusion",
    "DecisionRecord",
    "SearchParams",
    "VerificationRecord",
    "content_sha256",
]


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseRole(StrEnum):
    """A member's role in one case (beside their account role)."""

    OWNER = "owner"
    """Opened the case: examines, verifies others' decisions, manages members, closes it."""
    EXAMINER = "examiner"
    """Records searches and decisions; verifies other examiners' decisions."""
    VERIFIER = "verifier"
    """Verifies other examiners' decisions; records no searches or first decisions."""
    OBSERVER = "observer"
    """Reads the case."""


class Conclusion(StrEnum):
    """An examiner's conclusion on one candidate."""

    EXCLUDED = "excluded"
    INCONCLUSIVE = "inconclusive"
    POSSIBLE_LEAD = "possible_lead"


def content_sha256(content: dict[str, Any]) -> str:
    """SHA-256 of a row's canonical JSON (sorted keys, compact separators, ASCII)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@record
class CaseRecord(JsonRecord):
    id: int
    number: str
    purpose: str
    legal_basis: str
    owner: str
    owner_unit: str
    status: CaseStatus
    retention_until: str
    """ISO date (``YYYY-MM-DD``) from which the case's probe photos may no longer be kept."""
    created_at: str
    closed_at: str | None
    closed_by: str | None


@record
class CaseMember(JsonRecord):
    username: str
    role: CaseRole
    added_by: str
    added_at: str


@record
class CaseProbe:
    """A probe photo kept under a case; ``data`` is ``None`` once retention erased it."""

    id: int
    case_id: int
    sha256: str
    uploaded_by: str
    uploaded_at: str
    erased_at: str | None
    data: bytes | None = None


@record
class SearchParams:
    """A search as a case records it: its audit entry, probe and parameters."""

    case_id: int
    probe_id: int
    audit_seq: int
    searched_by: str
    model_id: str
    threshold: float
    threshold_source: str
    recorded_at: str


@record
class CaseSearch(SearchParams, JsonRecord):
    """An audited search recorded into a case, with its id."""

    id: int


@record
class CandidateInput:
    """One candidate as a search showed it: plain numbers, no search internals."""

    face_id: int
    rank: int
    similarity: float
    score: float | None = None
    estimated_fmr: float | None = None
    estimated_fmr_upper: float | None = None
    estimated_fpir: float | None = None
    estimated_fpir_upper: float | None = None


@record
class CandidateRecord(JsonRecord):
    """A candidate as the search showed it, with its error estimates."""

    id: int
    search_id: int
    face_id: int
    rank: int
    similarity: float
    score: float | None
    estimated_fmr: float | None
    estimated_fmr_upper: float | None
    estimated_fpir: float | None
    estimated_fpir_upper: float | None


class _Examined:
    """A decision or verification row: its content hash covers every field the examiner
    decided, which is every field but the hash itself and the audit entry recording it."""

    __slots__ = ()
    KIND: ClassVar[str]

    def content(self) -> dict[str, Any]:
        """What the content hash covers."""
        data = record_dict(self)
        del data["content_sha256"], data["audit_seq"]
        return {"kind": self.KIND, **data}


@record
class DecisionRecord(_Examined):
    """An examiner's decision on a candidate; ``form`` is the FISWG comparison as JSON-ready
    data (``{"features": {...}, "notes": ...}``)."""

    id: int
    candidate_id: int
    examiner: str
    conclusion: Conclusion
    form: dict[str, Any]
    reason: str
    decided_at: str
    content_sha256: str
    audit_seq: int | None

    KIND: ClassVar[str] = "decision"


@record
class VerificationRecord(_Examined, JsonRecord):
    """A second examiner's own conclusion on a decision, and whether it agrees."""

    id: int
    decision_id: int
    verifier: str
    conclusion: Conclusion
    agrees: bool
    form: dict[str, Any]
    reason: str
    verified_at: str
    content_sha256: str
    audit_seq: int | None

    KIND: ClassVar[str] = "verification"
