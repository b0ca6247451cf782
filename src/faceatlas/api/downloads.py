"""Endpoints that answer a file (a thumbnail, a report, a CSV): how their route documents the
file, and the response that carries it, as an attachment when it has a name."""

from __future__ import annotations

from typing import Any

from fastapi import Response

__all__ = ["download", "file_route"]


def file_route(media_type: str, description: str) -> dict[str, Any]:
    """The route options of an endpoint whose answer is a file of ``media_type``, documented
    under status 200 with ``description``."""
    return {
        "response_class": Response,
        "responses": {200: {"content": {media_type: {}}, "description": description}},
    }


def download(
    body: str | bytes,
    media_type: str,
    filename: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """``body`` as ``media_type``; with ``filename``, an attachment of that name."""
    sent = dict(headers or {})
    if filename is not None:
        sent["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers=sent)
