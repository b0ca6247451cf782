"""Cases, examiner decisions, two-person verification and case reports."""

from faceatlas.audit.records import check_case_records as verify_records
from faceatlas.cases.access import CaseAction, is_reviewer
from faceatlas.cases.desk import CaseDesk
from faceatlas.cases.records import (
    CandidateInput,
    ComparisonForm,
    DecisionStatus,
    DecisionView,
    Feature,
    Finding,
    SearchInput,
    VerificationTask,
    parse_conclusion,
)
from faceatlas.store.case_records import CaseRecord, CaseRole, CaseStatus, Conclusion

__all__ = [
    "CandidateInput",
    "CaseAction",
    "CaseDesk",
    "CaseRecord",
    "CaseRole",
    "CaseStatus",
    "ComparisonForm",
    "Conclusion",
    "DecisionStatus",
    "DecisionView",
    "Feature",
    "Finding",
    "SearchInput",
    "VerificationTask",
    "is_reviewer",
    "parse_conclusion",
    "verify_records",
]
