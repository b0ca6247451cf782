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
from faceatlas.cases.report import CaseReport, build_report, render_html
from faceatlas.store.case_records import CaseRecord, CaseRole, CaseStatus, Conclusion

__all__ = [
    "CandidateInput",
    "CaseAction",
    "CaseDesk",
    "CaseRecord",
    "CaseReport",
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
    "build_report",
    "is_reviewer",
    "parse_conclusion",
    "render_html",
    "render_pdf",
    "verify_records",
]


def render_pdf(report: CaseReport) -> bytes:
    """The report as PDF bytes (:mod:`faceatlas.cases.report_pdf`). The PDF library loads on
    first use: it takes longer to import than the rest of the package."""
    from faceatlas.cases.report_pdf import render_pdf as render

    return render(report)
