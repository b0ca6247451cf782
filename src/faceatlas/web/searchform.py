"""The flow both search forms share (one face, or photos of one person): who is signed
in, the CSRF check, and refusals shown on the form again with what was typed.

Case number and purpose are checked by the search itself (``Service.check_case``), so
this flow never weakens them; it only decides which page a refusal or result lands on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from faceatlas.accounts import Credential
from faceatlas.errors import CsrfError, FaceAtlasError, InvalidRequestError
from faceatlas.services import MAX_TOP_K, Interface, SearchRequest, Service
from faceatlas.types import record
from faceatlas.web.pages import check_form_csrf, form_page, pages_of, service_of, session

__all__ = [
    "SearchPage",
    "SearchRun",
    "accountable_search",
    "checked_search",
    "parse_top_k",
    "search_form",
]

SearchRun = Callable[
    [Request, Credential, FormData, dict[str, str]], Awaitable[dict[str, Any] | Response]
]
"""Runs the search from the form and its typed fields; the results page's context, or a
response of its own (a redirect to a job's page)."""


@record
class SearchPage:
    """A search form's template, the template of its results and the text fields it keeps."""

    form: str
    results: str
    fields: tuple[str, ...]
    context: Mapping[str, Any] = field(default_factory=dict)
    """More for the form's template (e.g. how many photos it takes)."""


def search_form(
    request: Request, page: SearchPage, credential: Credential, **extra: Any
) -> Response:
    """The search form, with any error and what was typed (``form``) in ``extra``."""
    context = {"purposes": service_of(request).settings.search_purposes, "form": {}, **page.context}
    return form_page(request, page.form, credential, context, extra)


async def accountable_search(request: Request, page: SearchPage, run: SearchRun) -> Response:
    """Handle a posted search form: the signed-in user, the CSRF check, then ``run`` with the
    form and its text fields. A refusal shows the form again with the error and (past the
    CSRF check) what was typed; otherwise the results page."""
    credential = session(request)
    form = await request.form()
    try:
        check_form_csrf(credential, form.get("csrf_token"))
    except CsrfError as exc:
        return search_form(request, page, credential, error=exc.message, status=exc.http_status)
    typed = {k: str(form.get(k) or "") for k in page.fields}
    try:
        results = await run(request, credential, form, typed)
    except FaceAtlasError as exc:
        return search_form(
            request, page, credential, form=typed, error=exc.message, status=exc.http_status
        )
    if isinstance(results, Response):
        return results
    return pages_of(request).render(request, page.results, results, credential=credential)


def parse_top_k(text: str) -> int | None:
    """The number of candidates asked for (none: the configured default)."""
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidRequestError(f"top_k must be between 1 and {MAX_TOP_K}") from None


def checked_search(
    service: Service, fields: Mapping[str, str], face: int | None = None
) -> SearchRequest:
    """The search a posted form asks for (interface ``web``): its ``top_k`` parsed (when the
    form has one), then its case number and purpose checked by the service."""
    top_k = parse_top_k(fields.get("top_k", ""))
    service.check_case(fields["case_number"], fields["purpose"])
    return SearchRequest(
        fields["case_number"], fields["purpose"], face, top_k, interface=Interface.WEB
    )
