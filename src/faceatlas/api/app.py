"""The app factory: REST API under ``/api/v1`` and the web app, over one :class:`Atlas`.

Other packages add routes with their own router module::

    app = create_app(settings)
    app.include_router(my_router, prefix=API_PREFIX)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from faceatlas import __version__
from faceatlas.api import (
    routes_admin,
    routes_identities,
    routes_privacy,
    routes_search,
    routes_users,
)
from faceatlas.api.errors import install_error_handlers
from faceatlas.api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from faceatlas.api.routes_search import API_PREFIX
from faceatlas.api.schemas import ErrorResponse
from faceatlas.api.service import Service
from faceatlas.atlas import Atlas
from faceatlas.config import Settings

__all__ = ["API_PREFIX", "create_app"]

log = logging.getLogger(__name__)

BODY_SLACK_BYTES = 64 * 1024
"""Room for multipart headers and form fields around the largest accepted upload."""

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "Invalid request (`invalid_request`, `case_required`)"),
        (401, "No, wrong, expired or revoked credentials (`unauthenticated`)"),
        (403, "Role does not allow this (`forbidden`, `csrf_failed`)"),
        (404, "Not found (`not_found`)"),
        (413, "Upload too large (`image_too_large`)"),
        (422, "Unreadable image or no face (`image_decode_error`, `no_face`, ...)"),
        (429, "Search rate limit reached (`rate_limited`)"),
    )
}


def create_app(settings: Settings | None = None, *, atlas: Atlas | None = None) -> FastAPI:
    """Build the ASGI app. Opens the atlas from ``settings`` unless one is given.

    An atlas passed in stays the caller's to close; one opened here closes
    with the app.
    """
    owned = atlas is None
    if atlas is None:
        atlas = Atlas.open(settings=settings or Settings())
    service = Service(atlas)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()
            if owned:
                atlas.close()

    app = FastAPI(
        title="FaceAtlas",
        version=__version__,
        summary="Self-hosted face search: results are investigative leads, not identifications.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    install_error_handlers(app)
    for module in (routes_search, routes_users, routes_admin, routes_identities, routes_privacy):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    from faceatlas.web import install_web

    install_web(app)

    app.add_middleware(
        BodyLimitMiddleware, limit_bytes=atlas.settings.max_upload_bytes + BODY_SLACK_BYTES
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app
