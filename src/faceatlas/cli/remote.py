"""Searching through a running server: the command line as a client of the REST API.

With ``FACEATLAS_SERVER_URL`` and ``FACEATLAS_API_TOKEN`` set (and no ``--atlas``),
``faceatlas search`` and ``faceatlas shell`` post each probe to ``/api/v1/search`` (or
``/api/v1/faces/detect``), where the model is already loaded: a search costs the request,
not the engine's start-up. The server applies every rule (case and purpose, limits, rate,
audit, who may see what) as for any API client. Only the standard library's HTTP client is
used, so the command starts at once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceatlas.cli.common import Table, console, err_console, print_json, settings_for
from faceatlas.errors import (
    ERROR_STATUS,
    FaceAtlasError,
    FetchError,
    InvalidRequestError,
    RateLimitedError,
)

__all__ = ["Server", "configured_server", "error_from", "show_remote_result"]

API = "/api/v1"
TIMEOUT_S = 120.0


def _error_classes(base: type[FaceAtlasError]) -> dict[str, type[FaceAtlasError]]:
    found = {base.code: base}
    for sub in base.__subclasses__():
        found.update(_error_classes(sub))
    return found


def error_from(code: str, message: str, retry_after_s: int = 60) -> FaceAtlasError:
    """The error a server's JSON error (``code``, ``message``) stands for, so the command
    line reports it (and exits) as it would its own."""
    if code == RateLimitedError.code:
        return RateLimitedError(message, retry_after_s)
    cls = _error_classes(FaceAtlasError).get(code if code in ERROR_STATUS else "internal_error")
    try:
        return (cls or FaceAtlasError)(message)
    except TypeError:  # pragma: no cover - every other error class takes just a message
        return FaceAtlasError(message)


@dataclass(frozen=True, slots=True)
class Server:
    """A running FaceAtlas server and the API token to present. (A plain frozen dataclass,
    not ``faceatlas.types.record``: that module loads NumPy, and this one must start fast.)"""

    url: str
    token: str

    def post_photo(self, path: str, photo: bytes, fields: dict[str, str]) -> dict[str, Any]:
        """POST ``photo`` (as the multipart field ``image``) with ``fields`` to ``path`` under
        the API; the JSON answer, or the server's error raised as a :class:`FaceAtlasError`."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        ]
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
            'filename="probe"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        body = "".join(parts).encode() + head.encode() + photo + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.url}{API}{path}",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
                data: dict[str, Any] = json.loads(reply.read())
                return data
        except urllib.error.HTTPError as exc:
            raise _answered_error(exc) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"cannot reach the server at {self.url}: {reason}") from None


def _answered_error(exc: urllib.error.HTTPError) -> FaceAtlasError:
    try:
        error = json.loads(exc.read())["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "internal_error", f"the server answered {exc.code} {exc.reason}"
    retry = exc.headers.get("Retry-After", "60") if exc.headers else "60"
    return error_from(code, message, int(retry) if retry.isdigit() else 60)


def configured_server(atlas: Path | None) -> Server | None:
    """The server searches go to: ``FACEATLAS_SERVER_URL`` (with its token), unless
    ``--atlas`` names a folder to search in this process."""
    if atlas is not None:
        return None
    settings = settings_for(None)
    if settings.server_url is None:
        return None
    if settings.api_token is None:
        raise InvalidRequestError(
            "FACEATLAS_SERVER_URL is set but FACEATLAS_API_TOKEN is not: make a token with "
            "POST /api/v1/auth/tokens, or give --atlas to search here"
        )
    return Server(settings.server_url.rstrip("/"), settings.api_token.get_secret_value())


def _where(s: dict[str, Any]) -> str:
    about = " | ".join(x for x in (s.get("page_title"), s.get("alt_text")) if x)
    page = s.get("page_url")
    if not page:
        return str(s["location"])
    return f"{page} ({about}) {s['location']}" if about else f"{page} {s['location']}"


def show_remote_result(data: dict[str, Any], as_json: bool) -> None:
    """A server's search answer: as it came with ``--json``, else as a table."""
    if as_json:
        print_json(data)
        return
    for reason in data["probe_quality"].get("reasons", []):
        err_console.print(f"warning: {reason}; leads are weaker than usual")
    if not data["hits"]:
        console.print(f"no stored face reaches the threshold {data['threshold']:.3f}")
        return
    table = Table(
        title=f"leads for face {data['selected_face']} (threshold {data['threshold']:.3f}, "
        f"{data['threshold_source']}; search #{data['search_id']} on {data['case_number']})",
        caption=data["notice"],
    )
    for col in ("rank", "score", "band", "face", "found at"):
        table.add_column(col)
    for h in data["hits"]:
        score = h["score"] if h.get("score") is not None else h["similarity"]
        where = "\n".join(_where(s) for s in h["sightings"]) or "-"
        table.add_row(str(h["rank"]), f"{score:.3f}", h["band"], str(h["face_id"]), where)
    console.print(table)
