"""Case pages: the list of a user's cases and the open-case form, one case (details,
members, searches, probes, candidates with their decisions and verification status), adding
and removing members, closing, and the report downloads (HTML and PDF).

Every page goes through :class:`~faceatlas.services.CaseService`, so the cases core's rules
hold here as in every front end: a case that a user may not read answers 404, and a refusal
(a wrong role, a closed case) is shown on the case page. The comparison view and the
verification pages are :mod:`faceatlas.web.examination`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from faceatlas.accounts import Credential, User
from faceatlas.errors import FaceAtlasError, NotFoundError
from faceatlas.services import CaseRole, CaseService, CaseStatus, CaseView
from faceatlas.types import RowId
from faceatlas.web.pages import CsrfField, form_page, posted_by, service_of, session

__all__ = ["case_rows", "casework_of", "router"]

router = APIRouter()

REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
"""The report downloads and their media types."""


def casework_of(request: Request) -> CaseService:
    return service_of(request).casework


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- the list and the open-case form ---------------------------------------------------------


def _list_page(request: Request, credential: Credential, **extra: Any) -> Response:
    context = {
        "cases": casework_of(request).cases(credential.user),
        "purposes": service_of(request).settings.search_purposes,
        "retention_days": service_of(request).settings.retention_probe_days,
        "form": {},
    }
    return form_page(request, "cases.html", credential, context, extra)


@router.get("/cases")
def cases_page(request: Request) -> Response:
    return _list_page(request, session(request))


@router.post("/cases")
def open_case(
    request: Request,
    case_number: Annotated[str, Form(max_length=64)] = "",
    purpose: Annotated[str, Form(max_length=200)] = "",
    legal_basis: Annotated[str, Form(max_length=4000)] = "",
    retention_until: Annotated[str, Form(max_length=20)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    credential = posted_by(request, csrf_token)
    typed = {
        "case_number": case_number,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "retention_until": retention_until,
    }
    try:
        case = casework_of(request).open(
            credential.user, case_number, purpose, legal_basis, retention_until
        )
    except FaceAtlasError as exc:
        return _list_page(
            request, credential, form=typed, error=exc.message, status=exc.http_status
        )
    return _redirect(f"/cases/{case.id}")


# --- from a search's results to a candidate --------------------------------------------------


@router.get("/cases/compare")
def compare_from_search(request: Request, case: str, search: int, face: int) -> Response:
    """A search result's comparison view: ``search`` is the search's audit entry number and
    ``face`` the face it showed, in case number ``case``."""
    credential = session(request)
    view = casework_of(request).show(credential.user, case)
    searched = next((s for s in view.searches if s.audit_seq == search), None)
    found = next(
        (
            c
            for c in view.candidates
            if searched is not None and c.search_id == searched.id and c.face_id == face
        ),
        None,
    )
    if found is None:
        raise NotFoundError(f"face {face} is not a candidate of search #{search} in case {case}")
    return _redirect(f"/cases/candidates/{found.id}")


# --- one case ----------------------------------------------------------------------------------


def case_rows(view: CaseView) -> list[dict[str, Any]]:
    """The case's searches, newest last, each with its probe and its candidates by rank, each
    candidate with its decision as the reader may see it."""
    probes = {p.id: p for p in view.probes}
    return [
        {
            "search": s,
            "probe": probes.get(s.probe_id),
            "candidates": [
                {"candidate": c, "decision": view.decision_for(c.id)}
                for c in sorted(view.candidates, key=lambda c: c.rank)
                if c.search_id == s.id
            ],
        }
        for s in view.searches
    ]


def _case_page(request: Request, credential: Credential, case_id: int, **extra: Any) -> Response:
    casework = casework_of(request)
    number = casework.number_of(credential.user, case_id)
    view = casework.show(credential.user, number)
    context = {
        "view": view,
        "case": view.case,
        "rows": case_rows(view),
        "is_open": view.case.status is CaseStatus.OPEN,
        "member_roles": [r for r in CaseRole if r is not CaseRole.OWNER],
        "done": None,
    }
    return form_page(request, "case.html", credential, context, extra)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId) -> Response:
    return _case_page(request, session(request), case_id)


def _refused(
    request: Request, credential: Credential, case_id: int, exc: FaceAtlasError
) -> Response:
    """The case page with the refusal; a case the user may not read is a plain 404 page."""
    try:
        return _case_page(request, credential, case_id, error=exc.message, status=exc.http_status)
    except NotFoundError:
        raise exc from None


def _manage(
    request: Request,
    case_id: int,
    csrf_token: str,
    act: Callable[[CaseService, User, str], object],
) -> Response:
    """Run a case page form's action on the case's number; back to the case page, or the
    refusal shown there."""
    credential = posted_by(request, csrf_token)
    casework = casework_of(request)
    try:
        act(casework, credential.user, casework.number_of(credential.user, case_id))
    except FaceAtlasError as exc:
        return _refused(request, credential, case_id, exc)
    return _redirect(f"/cases/{case_id}")


@router.post("/cases/{case_id}/members")
def add_member(
    request: Request,
    case_id: RowId,
    username: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    return _manage(
        request, case_id, csrf_token, lambda c, user, n: c.add_member(user, n, username, role)
    )


@router.post("/cases/{case_id}/members/remove")
def remove_member(
    request: Request,
    case_id: RowId,
    username: Annotated[str, Form(max_length=64)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    return _manage(
        request, case_id, csrf_token, lambda c, user, n: c.remove_member(user, n, username)
    )


@router.post("/cases/{case_id}/close")
def close_case(
    request: Request,
    case_id: RowId,
    erase_probes: Annotated[str, Form(max_length=10)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    erase = bool(erase_probes)
    return _manage(
        request, case_id, csrf_token, lambda c, user, n: c.close(user, n, erase_probes=erase)
    )


@router.get("/cases/{case_id}/report.{kind}")
async def report(request: Request, case_id: RowId, kind: str) -> Response:
    """The case report as a download: one self-contained HTML page, or PDF (audited)."""
    if kind not in REPORT_TYPES:
        raise NotFoundError(f"no {kind} report: choose html or pdf")
    credential = session(request)
    casework = casework_of(request)
    number = casework.number_of(credential.user, case_id)
    render = casework.report_html if kind == "html" else casework.report_pdf
    body = await run_in_threadpool(render, credential.user, number)
    name = re.sub(r"[^A-Za-z0-9._-]", "-", number)
    return Response(
        body,
        media_type=REPORT_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="case-{name}.{kind}"'},
    )
