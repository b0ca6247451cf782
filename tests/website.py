"""A real HTTP server on 127.0.0.1 serving a small web site, recording every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Request", "Response", "Site"]


@dataclass(frozen=True)
class Response:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Wait this long before answering (a slow server)."""
    drip_s: float = 0.0
    """Send the body one 64-byte piece at a time, this long apart (a trickling server)."""


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    user_agent: str
    at: float


Route = Response | Callable[[], Response]


class Site:
    """``routes`` maps a path (with query) to a response or a function returning one."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []
        self.inflight = 0
        self.max_inflight = 0
        """Most GET requests being answered at the same moment."""
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _record(self) -> None:
                with site._lock:
                    site.requests.append(
                        Request(
                            self.command,
                            self.headers.get("Host", ""),
                            self.path,
                            self.headers.get("User-Agent", ""),
                            time.monotonic(),
                        )
                    )

            def do_POST(self) -> None:
                self._record()
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._record()
                with site._lock:
                    site.inflight += 1
                    site.max_inflight = max(site.max_inflight, site.inflight)
                try:
                    self._answer()
                finally:
                    with site._lock:
                        site.inflight -= 1

            def _answer(self) -> None:
                route = site.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                response = route() if callable(route) else route
                if response.delay_s:
                    time.sleep(response.delay_s)
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.content_type)
                    self.send_header("Content-Length", str(len(response.body)))
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if response.drip_s:
                        for start in range(0, len(response.body), 64):
                            self.wfile.write(response.body[start : start + 64])
                            self.wfile.flush()
                            time.sleep(response.drip_s)
                    else:
                        self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]
