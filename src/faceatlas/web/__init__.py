"""The web app: server-rendered pages (Jinja2) with a little JavaScript, phone-friendly.

Pages talk to the same :class:`~faceatlas.services.Service` as the REST API and the
command line.
Other packages add pages with their own router module and the shared
:class:`Pages` renderer (``request.app.state.pages``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from faceatlas.web.batch import router as batch_router
from faceatlas.web.cases import router as cases_router
from faceatlas.web.evaluation import router as evaluation_router
from faceatlas.web.examination import router as examination_router
from faceatlas.web.home import router as home_router
from faceatlas.web.identities import router as identities_router
from faceatlas.web.optout import router as optout_router
from faceatlas.web.pages import Pages
from faceatlas.web.privacy import router as privacy_router
from faceatlas.web.results import router as results_router
from faceatlas.web.routes import router
from faceatlas.web.uploads import UPLOAD_PATH
from faceatlas.web.uploads import router as uploads_router
from faceatlas.web.video import router as video_router
from faceatlas.web.watchlists import router as watchlists_router

__all__ = ["STATIC_PREFIX", "UPLOAD_PATH", "Pages", "install_web"]

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"
PAGE_ROUTERS = (
    router,
    results_router,
    evaluation_router,
    optout_router,
    identities_router,
    privacy_router,
    cases_router,
    examination_router,
    batch_router,
    video_router,
    watchlists_router,
    home_router,
    uploads_router,
)
"""Every page router, in the order their routes are matched."""


def install_web(app: FastAPI) -> Pages:
    """Add the pages and static files; they expect ``app.state.service``. Returns the
    renderer (also ``app.state.pages``), whose ``error_page`` shows errors on web pages."""
    pages = Pages()
    app.state.pages = pages
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router, include_in_schema=False)
    return pages
