"""ASGI middleware: security headers on every response, and a request body limit."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faceatlas.errors import ImageTooLargeError

__all__ = ["CSP", "BodyLimitMiddleware", "SecurityHeadersMiddleware"]

CSP = (
    "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds CSP and friends; responses that set no ``Cache-Control`` get ``no-store``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in HEADERS if k not in present)
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit_bytes`` before they are parsed or spooled;
    ``wider`` gives the paths that take more (batch uploads) their own limit."""

    def __init__(
        self, app: ASGIApp, limit_bytes: int, wider: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_bytes = limit_bytes
        self.wider = dict(wider or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit_bytes = self.wider.get(scope.get("path", ""), self.default_bytes)
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit_bytes:
                    await _too_large(send, limit_bytes)
                    return
        seen = 0
        over = False  # a body without Content-Length (chunked) grew past the limit
        answered = False

        async def counting_receive() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit_bytes:
                    over = True
                    raise ImageTooLargeError(f"request body exceeds {limit_bytes} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            # body parsers turn any read error into a 400; the answer to a body over the limit
            # is 413, whatever the route made of it
            nonlocal answered
            if not over:
                await send(message)
            elif not answered:
                answered = True
                await _too_large(send, limit_bytes)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except ImageTooLargeError:
            if not over:
                raise
        if over and not answered:
            await _too_large(send, limit_bytes)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": ImageTooLargeError.code,
                "message": f"request body exceeds {limit} bytes",
                "status": 413,
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
