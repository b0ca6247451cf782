"""Who is asking over HTTP: the session cookie, the CSRF check and the client's address."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from faceatlas.accounts import Credential
from faceatlas.errors import CsrfError

__all__ = [
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "check_csrf",
    "client_of",
    "token_matches_cookie",
]

SESSION_COOKIE = "fa_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(credential: Credential, presented: object) -> None:
    """``csrf_failed`` unless ``presented`` is the session's CSRF token."""
    expected = credential.csrf_token or ""
    token = presented if isinstance(presented, str) else ""
    if not token or not expected or not hmac.compare_digest(token, expected):
        raise CsrfError("missing or wrong CSRF token; reload the page and try again")


def token_matches_cookie(request: Request, cookie: str, presented: str) -> bool:
    """The double-submit check of a form posted before signing in: the form's token is
    the one its page set in ``cookie``."""
    expected = request.cookies.get(cookie, "")
    return bool(expected) and hmac.compare_digest(expected, presented)


def client_of(request: Request) -> str:
    """The client's address, as the server sees it (what wrong passwords are counted by)."""
    return request.client.host if request.client else "unknown"
