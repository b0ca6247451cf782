"""The REST API under ``/api/v1``: its routers, mounted on an app by :func:`install_api`.

The app factory that mounts it beside the web app is :func:`faceatlas.server.create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from faceatlas.api import (
    routes_admin,
    routes_batch,
    routes_cases,
    routes_identities,
    routes_privacy,
    routes_search,
    routes_uploads,
    routes_users,
    routes_video,
    routes_watchlists,
)
from faceatlas.api.routes_search import API_PREFIX
from faceatlas.api.schemas import error_responses

__all__ = ["API_PREFIX", "ERROR_RESPONSES", "install_api"]

ERROR_RESPONSES = error_responses(
    (400, "Invalid request (`invalid_request`, `case_required`)"),
    (401, "No, wrong, expired or revoked credentials (`unauthenticated`)"),
    (403, "Role does not allow this (`forbidden`, `csrf_failed`)"),
    (404, "Not found (`not_found`)"),
    (413, "Upload too large (`image_too_large`)"),
    (422, "Unreadable image or no face (`image_decode_error`, `no_face`, ...)"),
    (429, "Search rate limit reached (`rate_limited`)"),
)


def install_api(app: FastAPI) -> None:
    """Add the REST routes under :data:`API_PREFIX`; they expect ``app.state.service``."""
    for module in (
        routes_search,
        routes_users,
        routes_admin,
        routes_identities,
        routes_privacy,
        routes_cases,
        routes_batch,
        routes_watchlists,
        routes_video,
        routes_uploads,
    ):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
