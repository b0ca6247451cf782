"""The cases core's vocabulary: the FISWG comparison form, plain inputs (a search's results as
face ids, scores and error estimates) and the views a case's readers get."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from faceatlas.errors import InvalidRequestError
from faceatlas.store.case_records import (
    CandidateInput,
    CandidateRecord,
    Conclusion,
    DecisionRecord,
    VerificationRecord,
)
from faceatlas.types import JsonRecord, record, record_as

__all__ = [
    "MAX_TEXT_CHARS",
    "CandidateInput",
    "ComparisonForm",
    "DecisionStatus",
    "DecisionView",
    "Feature",
    "Finding",
    "SearchInput",
    "VerificationTask",
    "checked_text",
    "parse_conclusion",
]

E = TypeVar("E", bound=StrEnum)

SEALED_FIELDS = ("conclusion", "form", "reason", "content_sha256")
"""What a sealed decision withholds from its reader."""

MAX_TEXT_CHARS = 4000
"""Longest reason or note accepted."""


class Feature(StrEnum):
    """The facial features of the FISWG comparison list, compared one by one."""

    FACE_SHAPE = "face_shape"
    HAIRLINE = "hairline"
    EYEBROWS = "eyebrows"
    EYES = "eyes"
    NOSE = "nose"
    EARS = "ears"
    MOUTH = "mouth"
    CHIN = "chin"
    SCARS_AND_MARKS = "scars_and_marks"


class Finding(StrEnum):
    SIMILAR = "similar"
    DISSIMILAR = "dissimilar"
    NOT_VISIBLE = "not_visible"


class DecisionStatus(StrEnum):
    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    """Every verification so far agrees with the decision."""
    DISPUTED = "disputed"
    """At least one verifier reached another conclusion."""


def _choice(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidRequestError(f"{what} must be one of {allowed}, not {value!r}") from None


def parse_conclusion(value: object) -> Conclusion:
    return _choice(Conclusion, value, "the conclusion")


def checked_text(value: object, what: str, *, required: bool) -> str:
    """Stripped free text, bounded in length; empty only where it is not ``required``."""
    text = str(value or "").strip()
    if required and not text:
        raise InvalidRequestError(f"{what} is required")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidRequestError(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    return text


@record
class ComparisonForm:
    """The FISWG comparison of a probe face and a candidate: a finding for every feature,
    and free-text notes."""

    findings: tuple[tuple[Feature, Finding], ...]
    notes: str = ""

    @classmethod
    def parse(cls, features: Mapping[str, object], notes: object = "") -> ComparisonForm:
        """Check a submitted form: every feature of :class:`Feature` assessed once, with a
        value of :class:`Finding`; no unknown feature."""
        unknown = sorted(set(features) - {f.value for f in Feature})
        if unknown:
            raise InvalidRequestError(
                f"unknown comparison feature(s) {', '.join(unknown)}; the form lists "
                + ", ".join(f.value for f in Feature)
            )
        missing = [f.value for f in Feature if f.value not in features]
        if missing:
            raise InvalidRequestError(
                "the comparison form needs a finding for every feature; missing: "
                + ", ".join(missing)
            )
        findings = tuple(
            (f, _choice(Finding, features[f.value], f"the finding for {f.value}")) for f in Feature
        )
        return cls(findings, checked_text(notes, "the notes", required=False))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComparisonForm:
        return cls.parse(data.get("features") or {}, data.get("notes", ""))

    def count(self, finding: Finding) -> int:
        return sum(1 for _, f in self.findings if f is finding)

    def check_supports(self, conclusion: Conclusion) -> None:
        """A conclusion must rest on the comparison: an exclusion on at least one dissimilar
        feature, a possible lead on at least one similar feature and none dissimilar."""
        if conclusion is Conclusion.EXCLUDED and not self.count(Finding.DISSIMILAR):
            raise InvalidRequestError(
                "an exclusion needs at least one feature found dissimilar in the comparison"
            )
        if conclusion is Conclusion.POSSIBLE_LEAD:
            if not self.count(Finding.SIMILAR):
                raise InvalidRequestError(
                    "a possible lead needs at least one feature found similar in the comparison"
                )
            if self.count(Finding.DISSIMILAR):
                raise InvalidRequestError(
                    "a possible lead cannot have a feature found dissimilar: conclude "
                    "inconclusive or excluded"
                )

    def as_dict(self) -> dict[str, Any]:
        return {"features": {f.value: v.value for f, v in self.findings}, "notes": self.notes}


@record
class SearchInput:
    """An audited search to record into its case: the ``search`` audit entry's sequence
    number, the probe photo searched, the model and threshold in force, and the candidates."""

    audit_seq: int
    probe: bytes
    model_id: str
    threshold: float
    threshold_source: str
    candidates: tuple[CandidateInput, ...]


@record
class DecisionView(JsonRecord):
    """A decision as one reader may see it. While ``sealed``, the conclusion, the form and
    the reason are withheld (``None``): the reader may still verify it blind."""

    decision_id: int
    candidate_id: int
    examiner: str
    decided_at: str
    status: DecisionStatus
    sealed: bool
    conclusion: Conclusion | None
    form: dict[str, Any] | None
    reason: str | None
    content_sha256: str | None
    audit_seq: int | None
    verifications: tuple[VerificationRecord, ...]
    verified_lead: bool
    """A possible lead that a second examiner verified (and nobody disputed)."""

    @classmethod
    def as_seen(
        cls, d: DecisionRecord, verifications: tuple[VerificationRecord, ...], *, sealed: bool
    ) -> DecisionView:
        if not verifications:
            status = DecisionStatus.AWAITING_VERIFICATION
        elif all(v.agrees for v in verifications):
            status = DecisionStatus.VERIFIED
        else:
            status = DecisionStatus.DISPUTED
        withheld = dict.fromkeys(SEALED_FIELDS) if sealed else {}
        return record_as(
            cls,
            d,
            decision_id=d.id,
            status=status,
            sealed=sealed,
            verifications=() if sealed else verifications,
            verified_lead=not sealed
            and d.conclusion is Conclusion.POSSIBLE_LEAD
            and status is DecisionStatus.VERIFIED,
            **withheld,
        )


@record
class VerificationTask(JsonRecord):
    """What a verifier gets before recording their own conclusion: the candidate and the
    probe it was found for, and who decided when; never the first conclusion."""

    case_number: str
    decision_id: int
    examiner: str
    decided_at: str
    candidate: CandidateRecord
    probe_sha256: str
    model_id: str
    threshold: float
