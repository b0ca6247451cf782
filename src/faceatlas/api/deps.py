"""Request dependencies: the service, and who is asking (bearer token or session cookie)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from faceatlas.accounts import Credential, Role, TokenKind, User
from faceatlas.api.service import Service
from faceatlas.errors import AuthenticationError, CsrfError, PermissionDeniedError

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CurrentCredential",
    "ServiceDep",
    "check_csrf",
    "client_of",
    "require",
]

SESSION_COOKIE = "fa_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="API token from `POST /api/v1/auth/tokens`.")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Web session; unsafe methods also need the `X-CSRF-Token` header.",
)


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def check_csrf(credential: Credential, presented: str | None) -> None:
    expected = credential.csrf_token or ""
    if not presented or not expected or not hmac.compare_digest(presented, expected):
        raise CsrfError("missing or wrong CSRF token; reload the page and try again")


def get_credential(
    request: Request,
    service: ServiceDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Credential:
    if request.headers.get("authorization"):
        if bearer is None or bearer.scheme.lower() != "bearer" or not bearer.credentials:
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        return service.atlas.accounts.resolve(bearer.credentials, TokenKind.API)
    if cookie:
        credential = service.atlas.accounts.resolve(cookie, TokenKind.SESSION)
        if request.method not in SAFE_METHODS:
            check_csrf(credential, request.headers.get(CSRF_HEADER))
        return credential
    raise AuthenticationError("sign in, or send an API token as 'Authorization: Bearer <token>'")


CurrentCredential = Annotated[Credential, Depends(get_credential)]


def require(role: Role) -> Callable[[Credential], User]:
    """A dependency giving the current user when their role allows ``role``'s actions."""

    def dependency(credential: CurrentCredential) -> User:
        user = credential.user
        if user.must_change_password:
            raise PermissionDeniedError("change the one-time password first")
        if not user.role.allows(role):
            raise PermissionDeniedError(f"this needs the {role.value} role")
        return user

    return dependency


Investigator = Annotated[User, Depends(require(Role.INVESTIGATOR))]
Supervisor = Annotated[User, Depends(require(Role.SUPERVISOR))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]


def client_of(request: Request) -> str:
    """The client's address, as the server sees it (what wrong passwords are counted by)."""
    return request.client.host if request.client else "unknown"
