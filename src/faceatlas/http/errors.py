"""One JSON error shape for every failure: ``{"error": {"code", "message", "status"}}``.

Codes come from :mod:`faceatlas.errors` and are stable; clients branch on the
code, never on the message. Web pages (outside ``/api``) get an HTML page
instead (from the ``html_page`` the app factory passes in), and a sign-in redirect for
``unauthenticated``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from faceatlas.errors import FaceAtlasError, RateLimitedError

__all__ = ["ErrorPage", "error_body", "install_error_handlers"]

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


ErrorPage = Callable[[Request, str, str, int], Response]
"""Renders an error for a web page: ``(request, code, message, status)``."""


def error_body(code: str, message: str, status: int) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install_error_handlers(app: FastAPI, html_page: ErrorPage | None = None) -> None:
    """One JSON error shape under ``/api``; elsewhere ``html_page`` (JSON without one)."""

    def _respond(request: Request, code: str, message: str, status: int) -> Response:
        headers: dict[str, str] = {}
        if html_page is None or _is_api(request):
            if status == 401:
                headers["WWW-Authenticate"] = "Bearer"
            return JSONResponse(
                error_body(code, message, status), status_code=status, headers=headers
            )
        if status == 401:
            return RedirectResponse("/login", status_code=303)
        return html_page(request, code, message, status)

    @app.exception_handler(FaceAtlasError)
    async def _domain(request: Request, exc: FaceAtlasError) -> Response:
        if exc.http_status >= 500:
            log.error("%s on %s: %s", exc.code, request.url.path, exc.message)
        response = _respond(request, exc.code, exc.message, exc.http_status)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return _respond(request, "invalid_request", "; ".join(parts) or "invalid request", 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return _respond(request, code, str(exc.detail), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _respond(request, "internal_error", "internal error", 500)
