"""The form fields every REST face search takes (case number, purpose, top-k, threshold),
read by one dependency into the search request, and the case check it passes before any
upload is read: one definition for the photo, identity, video, batch and group searches."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form

from faceatlas.services import MAX_TOP_K, Interface, SearchRequest, Service

__all__ = ["CaseField", "IndexField", "SearchForm", "checked", "search_form"]

CaseField = Annotated[str | None, Form(max_length=200)]
"""The case number or the purpose of a search (required; checked by the service)."""
IndexField = Annotated[int | None, Form(ge=0, le=10_000)]
"""Which face (or face track) of the probe to search with; default the service's choice."""


def search_form(
    case_number: CaseField = None,
    purpose: CaseField = None,
    top_k: Annotated[int | None, Form(ge=1, le=MAX_TOP_K)] = None,
    threshold: Annotated[float | None, Form(ge=-1.0, le=1.0)] = None,
) -> SearchRequest:
    """The search fields of a multipart form, as a REST search request."""
    return SearchRequest(
        case_number or "", purpose or "", top_k=top_k, threshold=threshold, interface=Interface.API
    )


SearchForm = Annotated[SearchRequest, Depends(search_form)]


def checked(service: Service, request: SearchRequest) -> SearchRequest:
    """``request`` once its case number and purpose pass the service's check
    (``case_required`` otherwise)."""
    service.check_case(request.case_number, request.purpose)
    return request
