"""The examiner's pages: the side-by-side comparison of a case candidate with its probe face
(both aligned crops, a blink and overlay toggle, landmarks on demand, scores, error
estimates, quality measures, every source) with the FISWG comparison form that records a
decision; and the blind verification page of a decision.

The verification page never shows the first conclusion before the verifier has recorded
theirs (the cases core seals it); verifying one's own decision is refused and the refusal
shown on the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from faceatlas.accounts import Credential, User
from faceatlas.errors import (
    CsrfError,
    FaceAtlasError,
    NotFoundError,
    SelfVerificationError,
)
from faceatlas.services import Conclusion, DecisionView, Feature, Finding, Submission
from faceatlas.types import RowId
from faceatlas.web.cases import casework_of
from faceatlas.web.pages import check_form_csrf, form_page, pages_of, session

__all__ = ["FEATURE_FIELD", "router", "submitted_form"]

router = APIRouter()

FEATURE_FIELD = "feature_"
"""Form fields ``feature_<feature>`` hold each feature's finding."""


def _form_vocabulary() -> dict[str, Any]:
    return {
        "features": list(Feature),
        "findings": list(Finding),
        "conclusions": list(Conclusion),
        "feature_field": FEATURE_FIELD,
    }


def submitted_form(form: FormData) -> dict[str, Any]:
    """A posted comparison form as typed: the finding of each feature, notes, conclusion and
    reason (the cases core checks them)."""
    return {
        "features": {
            f.value: str(form.get(FEATURE_FIELD + f.value) or "")
            for f in Feature
            if form.get(FEATURE_FIELD + f.value)
        },
        "notes": str(form.get("notes") or ""),
        "conclusion": str(form.get("conclusion") or ""),
        "reason": str(form.get("reason") or ""),
    }


async def _posted(request: Request) -> tuple[Credential, FormData]:
    credential = session(request)
    form = await request.form()
    check_form_csrf(credential, form.get("csrf_token"))
    return credential, form


# --- the comparison view ---------------------------------------------------------------------


async def _compare_page(
    request: Request, credential: Credential, candidate_id: int, **extra: Any
) -> Response:
    casework = casework_of(request)
    comparison = await run_in_threadpool(casework.comparison, credential.user, candidate_id)
    view = casework.show(credential.user, comparison.case_number)
    decision = view.decision_for(candidate_id)
    context = {
        "comparison": comparison,
        "case": view.case,
        "decision": decision,
        "verified_by_me": _verified_by(decision, credential.user.username),
        "typed": {},
        **_form_vocabulary(),
    }
    return form_page(request, "case_compare.html", credential, context, extra)


def _verified_by(decision: DecisionView | None, username: str) -> bool:
    return decision is not None and any(v.verifier == username for v in decision.verifications)


@router.get("/cases/candidates/{candidate_id}")
async def compare_page(request: Request, candidate_id: RowId) -> Response:
    return await _compare_page(request, session(request), candidate_id)


@router.post("/cases/candidates/{candidate_id}/decision")
async def decide(request: Request, candidate_id: RowId) -> Response:
    """Record the examiner's decision from the comparison form; back to the comparison."""
    return await _record(
        request,
        candidate_id,
        casework_of(request).decide,
        _compare_page,
        f"/cases/candidates/{candidate_id}#decision",
    )


async def _record(
    request: Request,
    row_id: int,
    record: Callable[[User, int, Submission], object],
    page: Callable[..., Awaitable[Response]],
    done_url: str,
) -> Response:
    """Record a posted comparison form (a decision, a verification) on ``row_id``; then
    ``done_url``, or the form on its ``page`` again with the refusal and what was typed."""
    credential, form = await _posted(request)
    typed = submitted_form(form)
    try:
        submitted = Submission(
            conclusion=typed["conclusion"],
            features=typed["features"],
            reason=str(typed["reason"]),
            notes=typed["notes"],
        )
        await run_in_threadpool(record, credential.user, row_id, submitted)
    except FaceAtlasError as exc:
        if isinstance(exc, NotFoundError | CsrfError):
            raise
        return await page(
            request, credential, row_id, typed=typed, error=exc.message, status=exc.http_status
        )
    return RedirectResponse(done_url, status_code=303)


# --- blind verification ----------------------------------------------------------------------


async def _verify_page(
    request: Request, credential: Credential, decision_id: int, **extra: Any
) -> Response:
    """The verifier's page: the task and the comparison (no first conclusion) until they
    have recorded theirs, then the decision with every verification and the agreement."""
    status = int(extra.pop("status", 200))
    casework = casework_of(request)
    context: dict[str, Any] = {
        "decision_id": decision_id,
        "task": None,
        "comparison": None,
        "outcome": None,
        "typed": {},
        "error": None,
        **_form_vocabulary(),
        **extra,
    }
    try:
        task = casework.verification_task(credential.user, decision_id)
    except SelfVerificationError as exc:
        context["error"] = exc.message
        return pages_of(request).render(
            request, "case_verify.html", context, credential=credential, status=exc.http_status
        )
    comparison = await run_in_threadpool(casework.comparison, credential.user, task.candidate.id)
    view = casework.show(credential.user, task.case_number)
    decision = next(d for d in view.decisions if d.decision_id == decision_id)
    context.update(task=task, comparison=comparison, case=view.case)
    if _verified_by(decision, credential.user.username):
        context["outcome"] = decision
    return pages_of(request).render(
        request, "case_verify.html", context, credential=credential, status=status
    )


@router.get("/cases/decisions/{decision_id}/verify")
async def verify_page(request: Request, decision_id: RowId) -> Response:
    return await _verify_page(request, session(request), decision_id)


@router.post("/cases/decisions/{decision_id}/verify")
async def verify(request: Request, decision_id: RowId) -> Response:
    """Record the second examiner's own comparison and conclusion, then show the agreement."""
    return await _record(
        request,
        decision_id,
        casework_of(request).verify,
        _verify_page,
        f"/cases/decisions/{decision_id}/verify",
    )
