"""The access log and the request id: every HTTP request gets an id (the client's
``X-Request-ID`` when it is a plain short token, else a new one), answered in the response's
``X-Request-ID``, carried by every log line written while serving it, and one access line
when it ends (method, route template, status, duration, client address; never the query
string, headers or body). The request also counts in ``faceatlas_http_requests``."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faceatlas.services.logs import ACCESS_LOGGER, request_id_for, set_request_id

__all__ = ["REQUEST_ID_HEADER", "AccessLogMiddleware"]

REQUEST_ID_HEADER = "x-request-id"
access_log = logging.getLogger(ACCESS_LOGGER)


class AccessLogMiddleware:
    """Outermost middleware: request id, access line and request count. ``prefixes``: the
    paths routers are included under (a route found under another is logged as ``other``)."""

    def __init__(self, app: ASGIApp, prefixes: Sequence[str] = ("",)) -> None:
        self.app = app
        self.prefixes = frozenset(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(REQUEST_ID_HEADER.encode())
        request_id = request_id_for(None if given is None else given.decode("latin-1"))
        set_request_id(request_id)
        status = 500  # unless a response starts
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)
            set_request_id(None)

    def _route(self, scope: Scope) -> str:
        """The template of the route that answered (``/api/v1/faces/{face_id}``), never the
        path itself: ids and names stay out of logs and metric labels."""
        route = scope.get("route")
        template = getattr(route, "path", None)
        regex = getattr(route, "path_regex", None)
        if not isinstance(template, str) or regex is None:
            mounted = scope.get("root_path", "")
            return f"{mounted}/{{path}}" if mounted in self.prefixes - {""} else "unmatched"
        path = str(scope.get("path", ""))
        for cut in (i for i, c in enumerate(path) if c == "/"):
            if regex.match(path[cut:]):  # the route's own part; before it, the router's prefix
                return template if path[:cut] == "" else self._prefixed(path[:cut], template)
        return template

    def _prefixed(self, prefix: str, template: str) -> str:
        return prefix + template if prefix in self.prefixes else "other"

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = self._route(scope)
        method = str(scope.get("method", ""))
        client = scope.get("client")
        service = getattr(getattr(scope.get("app"), "state", None), "service", None)
        if service is not None:
            service.metrics.http_request(method, route, status)
        access_log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "client": client[0] if client else None,
            },
        )
