"""The app factory: REST API under ``/api/v1`` and the web app, over one :class:`Atlas`
and one :class:`~faceatlas.services.Service`.

It sits above both front ends, which never import each other. Other packages add routes
with their own router module::

    app = create_app(settings)
    app.include_router(my_router, prefix=API_PREFIX)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from faceatlas import __version__
from faceatlas.api import API_PREFIX, install_api
from faceatlas.api.routes_uploads import API_UPLOAD_PATH
from faceatlas.atlas import Atlas
from faceatlas.config import Settings
from faceatlas.http.access_log import AccessLogMiddleware
from faceatlas.http.errors import install_error_handlers
from faceatlas.http.metrics import install_metrics
from faceatlas.http.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from faceatlas.services import Service
from faceatlas.web import STATIC_PREFIX, UPLOAD_PATH, install_web

__all__ = ["API_PREFIX", "BODY_SLACK_BYTES", "create_app", "server_config"]

BODY_SLACK_BYTES = 64 * 1024
"""Room for multipart headers and form fields around the largest accepted upload."""


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
    install_metrics(app)
    install_api(app)
    pages = install_web(app)
    install_error_handlers(app, pages.error_page)
    batch_bytes = atlas.settings.batch_max_bytes + BODY_SLACK_BYTES
    upload_bytes = atlas.settings.upload_max_bytes + BODY_SLACK_BYTES
    app.add_middleware(
        BodyLimitMiddleware,
        limit_bytes=atlas.settings.max_upload_bytes + BODY_SLACK_BYTES,
        wider={
            f"{API_PREFIX}/search/batch": batch_bytes,
            "/search/batch": batch_bytes,
            UPLOAD_PATH: upload_bytes,
            f"{API_PREFIX}{API_UPLOAD_PATH}": upload_bytes,
        },
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AccessLogMiddleware, prefixes=("", API_PREFIX, STATIC_PREFIX))
    return app


def server_config(app: FastAPI, host: str, port: int, log_level: str) -> uvicorn.Config:
    """How ``faceatlas serve`` runs ``app``: its log lines go to the handler that
    :func:`faceatlas.services.logs.configure_logging` set up, and the access log is
    FaceAtlas's own (route templates and request ids; never query strings)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
