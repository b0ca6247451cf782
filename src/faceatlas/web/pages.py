"""Rendering pages, and who is signed in on the web (session cookie + CSRF token)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from faceatlas import __version__
from faceatlas.accounts import Credential, Role, TokenKind
from faceatlas.errors import AuthenticationError, PermissionDeniedError
from faceatlas.http.session import SESSION_COOKIE, check_csrf
from faceatlas.services import LEADS_NOTICE, Service
from faceatlas.types import is_web_url

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "CsrfField",
    "Pages",
    "check_form_csrf",
    "form_page",
    "new_login_csrf",
    "optional_session",
    "pages_of",
    "posted_by",
    "service_of",
    "session",
    "set_strict_cookie",
]

CsrfField = Annotated[str, Form(max_length=100)]
"""The CSRF token a posted form carries (checked by :func:`posted_by`)."""

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOGIN_CSRF_COOKIE = "fa_login_csrf"


class Pages:
    """Jinja2 templates with the context every page needs."""

    def __init__(self) -> None:
        self.templates = Jinja2Templates(directory=TEMPLATES_DIR)
        self.templates.env.globals.update(version=__version__, notice=LEADS_NOTICE, Role=Role)
        self.templates.env.tests["web_url"] = is_web_url  # only http(s) becomes a link

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        credential: Credential | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        ctx: dict[str, Any] = {
            "user": credential.user if credential else None,
            "csrf_token": credential.csrf_token if credential else "",
        }
        ctx.update(context or {})
        return self.templates.TemplateResponse(request, name, ctx, status_code=status)

    def error_page(self, request: Request, code: str, message: str, status: int) -> Response:
        credential = None
        try:
            credential = optional_session(request)
        except Exception:  # an error page must render even when the session is bad
            credential = None
        return self.render(
            request,
            "error.html",
            {"code": code, "message": message, "status": status},
            credential=credential,
            status=status,
        )


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def form_page(
    request: Request,
    name: str,
    credential: Credential,
    context: dict[str, Any],
    extra: dict[str, Any],
) -> Response:
    """Template ``name`` with ``context``, then ``extra``: what a refused form shows again (the
    ``error``, what was typed) and the response ``status`` (200 unless given)."""
    status = int(extra.pop("status", 200))
    return pages_of(request).render(
        request, name, {"error": None, **context, **extra}, credential=credential, status=status
    )


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def optional_session(request: Request) -> Credential | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return service_of(request).accounts.resolve(cookie, TokenKind.SESSION)
    except AuthenticationError:
        return None


def session(
    request: Request, role: Role = Role.INVESTIGATOR, *, allow_pending: bool = False
) -> Credential:
    """The signed-in user for a page; 401 (redirect to sign-in) or 403 otherwise."""
    credential = optional_session(request)
    if credential is None:
        raise AuthenticationError("sign in first")
    if credential.user.must_change_password and not allow_pending:
        raise PermissionDeniedError("change your one-time password first: /account/password")
    if not credential.user.role.allows(role):
        raise PermissionDeniedError(f"this page needs the {role.value} role")
    return credential


def check_form_csrf(credential: Credential, form_token: object) -> None:
    check_csrf(credential, form_token)


def posted_by(
    request: Request,
    csrf_token: object,
    role: Role = Role.INVESTIGATOR,
    *,
    allow_pending: bool = False,
) -> Credential:
    """The signed-in user who posted a form, once the form's CSRF token is checked."""
    credential = session(request, role, allow_pending=allow_pending)
    check_form_csrf(credential, csrf_token)
    return credential


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def set_strict_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int, path: str
) -> None:
    """Set an HttpOnly, SameSite=strict cookie, Secure when ``cookie_secure`` is on."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=service_of(request).settings.cookie_secure,
        path=path,
    )
