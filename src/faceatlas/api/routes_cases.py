"""Cases: open, list, show, members, close, examiner decisions, blind verification, the
side-by-side comparison and the case report (HTML and PDF).

Cases are addressed by id (``GET /cases?number=...`` finds one by number). To anyone who is
neither a member nor a reviewer of a case, every one of its records answers ``404``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool

from faceatlas.api.deps import Investigator, ServiceDep
from faceatlas.api.downloads import download, file_route
from faceatlas.api.schemas import error_responses
from faceatlas.api.schemas_cases import (
    CaseCreate,
    CaseDetailOut,
    CaseOut,
    CasesOut,
    CloseIn,
    ComparisonOut,
    DecisionIn,
    DecisionOut,
    MemberIn,
    MemberOut,
    MemberRemove,
    VerificationTaskOut,
)
from faceatlas.services import CaseService
from faceatlas.types import RowId

__all__ = ["router"]

router = APIRouter(
    prefix="/cases",
    tags=["cases"],
    responses=error_responses(
        (
            403,
            "Your role in the case does not allow this (`forbidden`), or the decision is your "
            "own (`self_verification`)",
        ),
        (
            409,
            "Case number taken, case closed, candidate already decided or decision already "
            "verified by you (`conflict`)",
        ),
    ),
)


def get_cases(service: ServiceDep) -> CaseService:
    return service.casework


Cases = Annotated[CaseService, Depends(get_cases)]


NO_STORE = {"Cache-Control": "no-store"}
"""Case reports are never kept in a browser or proxy cache."""


@router.get("", response_model=CasesOut, summary="Cases I am a member of or review")
def list_cases(
    cases: Cases,
    user: Investigator,
    number: Annotated[str | None, Query(max_length=200, description="Only this case.")] = None,
) -> CasesOut:
    found = cases.cases(user)
    if number is not None:
        found = [c for c in found if c.number == number.strip()]
    return CasesOut(cases=[CaseOut.of(c) for c in found])


@router.post("", response_model=CaseOut, status_code=201, summary="Open a case")
def open_case(body: CaseCreate, cases: Cases, user: Investigator) -> CaseOut:
    """The caller owns the case; audited as `case_created`."""
    case = cases.open(user, body.number, body.purpose, body.legal_basis, body.retention_until)
    return CaseOut.of(case)


@router.get(
    "/{case_id}",
    response_model=CaseDetailOut,
    summary="A case: members, probes, searches, candidates, decisions",
)
def show_case(case_id: RowId, cases: Cases, user: Investigator) -> CaseDetailOut:
    """Decisions not yet verified are sealed to members other than their examiner."""
    return CaseDetailOut.of_view(cases.show(user, cases.number_of(user, case_id)))


@router.post("/{case_id}/members", response_model=MemberOut, summary="Add a case member")
def add_member(case_id: RowId, body: MemberIn, cases: Cases, user: Investigator) -> MemberOut:
    number = cases.number_of(user, case_id)
    return MemberOut.of(cases.add_member(user, number, body.username, body.role))


@router.post("/{case_id}/members/remove", status_code=204, summary="Remove a case member")
def remove_member(case_id: RowId, body: MemberRemove, cases: Cases, user: Investigator) -> Response:
    cases.remove_member(user, cases.number_of(user, case_id), body.username)
    return Response(status_code=204)


@router.post("/{case_id}/close", response_model=CaseOut, summary="Close a case")
def close_case(case_id: RowId, body: CloseIn, cases: Cases, user: Investigator) -> CaseOut:
    """No more searches or decisions; the probe photos go now or on the retention date."""
    number = cases.number_of(user, case_id)
    return CaseOut.of(cases.close(user, number, erase_probes=body.erase_probes))


@router.get(
    "/{case_id}/report.html",
    summary="The case report as one self-contained HTML page",
    **file_route("text/html", "Opens offline."),
)
def report_html(case_id: RowId, cases: Cases, user: Investigator) -> Response:
    html = cases.report_html(user, cases.number_of(user, case_id))
    return download(html, "text/html; charset=utf-8", f"case-{case_id}-report.html", NO_STORE)


@router.get(
    "/{case_id}/report.pdf",
    summary="The case report as PDF",
    **file_route("application/pdf", "The report."),
)
def report_pdf(case_id: RowId, cases: Cases, user: Investigator) -> Response:
    pdf = cases.report_pdf(user, cases.number_of(user, case_id))
    return download(pdf, "application/pdf", f"case-{case_id}-report.pdf", NO_STORE)


@router.get(
    "/candidates/{candidate_id}/comparison",
    response_model=ComparisonOut,
    summary="Probe face and candidate side by side",
)
async def comparison(candidate_id: RowId, cases: Cases, user: Investigator) -> ComparisonOut:
    """Both aligned crops at full resolution, their landmarks and quality, the scores and
    error estimates the search showed, and every place the candidate was seen."""
    found = await run_in_threadpool(cases.comparison, user, candidate_id)
    return ComparisonOut.of(found)


@router.post(
    "/candidates/{candidate_id}/decision",
    response_model=DecisionOut,
    status_code=201,
    summary="Record an examiner's decision on a candidate",
)
def decide(candidate_id: RowId, body: DecisionIn, cases: Cases, user: Investigator) -> DecisionOut:
    view = cases.decide(user, candidate_id, body.submission())
    return DecisionOut.of(view)


@router.get(
    "/decisions/{decision_id}/verification-task",
    response_model=VerificationTaskOut,
    summary="What a verifier compares (never the first conclusion)",
)
def verification_task(decision_id: RowId, cases: Cases, user: Investigator) -> VerificationTaskOut:
    return VerificationTaskOut.of(cases.verification_task(user, decision_id))


@router.post(
    "/decisions/{decision_id}/verify",
    response_model=DecisionOut,
    status_code=201,
    summary="Verify a decision with your own conclusion",
)
def verify(decision_id: RowId, body: DecisionIn, cases: Cases, user: Investigator) -> DecisionOut:
    """Refused with `self_verification` (403) on your own decision."""
    view = cases.verify(user, decision_id, body.submission())
    return DecisionOut.of(view)
