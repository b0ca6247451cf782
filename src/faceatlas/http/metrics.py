"""``GET /metrics``: the service's Prometheus metrics, to whoever ``FACEATLAS_METRICS``
allows (off, this machine only, or the holder of ``FACEATLAS_METRICS_TOKEN``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from faceatlas.errors import FaceAtlasError
from faceatlas.http.errors import error_body
from faceatlas.http.session import client_of
from faceatlas.services import Service
from faceatlas.services.metrics import CONTENT_TYPE, check_scrape

__all__ = ["METRICS_PATH", "install_metrics"]

METRICS_PATH = "/metrics"


def install_metrics(app: FastAPI) -> None:
    """Add :data:`METRICS_PATH`; it expects ``app.state.service``."""

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        service: Service = request.app.state.service
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        bearer = credential.strip() if scheme.lower() == "bearer" else None
        try:
            check_scrape(service.settings, client_of(request), bearer)
        except FaceAtlasError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
            return JSONResponse(
                error_body(exc.code, exc.message, exc.http_status),
                status_code=exc.http_status,
                headers=headers,
            )
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE)
