"""Request dependencies: the service, and who is asking (bearer token or session cookie)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from faceatlas.accounts import Credential, Role, TokenKind, User
from faceatlas.errors import AuthenticationError, PermissionDeniedError
from faceatlas.http.session import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, check_csrf
from faceatlas.services import Service

__all__ = [
    "Admin",
    "CurrentCredential",
    "Investigator",
    "ServiceDep",
    "Supervisor",
    "require",
]

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


def get_credential(
    request: Request,
    service: ServiceDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Credential:
    if request.headers.get("authorization"):
        if bearer is None or bearer.scheme.lower() != "bearer" or not bearer.credentials:
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        return service.accounts.resolve(bearer.credentials, TokenKind.API)
    if cookie:
        credential = service.accounts.resolve(cookie, TokenKind.SESSION)
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
