"""Tokens (sign-in for API clients), the current user, and user management (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from faceatlas.accounts import TokenKind
from faceatlas.api.deps import Admin, CurrentCredential, ServiceDep
from faceatlas.api.schemas_users import (
    PasswordChange,
    PasswordReset,
    TokenCreate,
    TokenInfo,
    TokenOut,
    UnlockOut,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)
from faceatlas.errors import PermissionDeniedError
from faceatlas.http.session import client_of
from faceatlas.types import RowId

__all__ = ["router"]

router = APIRouter()


@router.post(
    "/auth/tokens",
    response_model=TokenOut,
    status_code=201,
    tags=["auth"],
    summary="Create an API token with username and password",
)
def create_token(body: TokenCreate, service: ServiceDep, request: Request) -> TokenOut:
    user = service.accounts.authenticate(body.username, body.password, client_of(request))
    if user.must_change_password:
        raise PermissionDeniedError(
            "change the one-time password first (POST /api/v1/auth/password)"
        )
    issued = service.accounts.issue(
        user, TokenKind.API, service.settings.token_ttl_s, name=body.name
    )
    service.record(user, "token_created", token_id=issued.id, name=body.name)
    return TokenOut(id=issued.id, token=issued.secret, expires_at=issued.expires_at)


@router.post(
    "/auth/password",
    status_code=204,
    response_class=Response,
    tags=["auth"],
    summary="Change a password (also replaces a one-time password); revokes all tokens",
)
def change_password(body: PasswordChange, service: ServiceDep, request: Request) -> Response:
    service.accounts.change_password(
        body.username, body.current_password, body.new_password, client_of(request)
    )
    return Response(status_code=204)


@router.get("/auth/me", response_model=UserOut, tags=["auth"], summary="Who am I")
def me(credential: CurrentCredential) -> UserOut:
    return UserOut.of(credential.user)


@router.get(
    "/auth/tokens", response_model=list[TokenInfo], tags=["auth"], summary="My tokens and sessions"
)
def my_tokens(credential: CurrentCredential, service: ServiceDep) -> list[TokenInfo]:
    rows = service.accounts.tokens(credential.user)
    return [TokenInfo.model_validate(r) for r in rows]


@router.delete(
    "/auth/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    tags=["auth"],
    summary="Revoke one of my tokens (use the current token's id to sign out)",
)
def revoke_token(token_id: RowId, credential: CurrentCredential, service: ServiceDep) -> Response:
    service.accounts.revoke(credential.user, token_id)
    service.record(credential.user, "token_revoked", token_id=token_id, kind=TokenKind.API.value)
    return Response(status_code=204)


@router.get("/users", response_model=list[UserOut], tags=["users"], summary="All users")
def list_users(service: ServiceDep, _admin: Admin) -> list[UserOut]:
    return [UserOut.of(u) for u in service.accounts.list_users()]


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=201,
    tags=["users"],
    summary="Create a user with a one-time password",
)
def create_user(body: UserCreate, service: ServiceDep, admin: Admin) -> UserCreated:
    user, password = service.accounts.create_user(admin, body.username, body.role, body.unit)
    return UserCreated(user=UserOut.of(user), one_time_password=password)


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    tags=["users"],
    summary="Change a user's role, unit or active flag (revokes their tokens)",
)
def update_user(user_id: RowId, body: UserUpdate, service: ServiceDep, admin: Admin) -> UserOut:
    user = service.accounts.update_user(
        admin,
        user_id,
        role=body.role,
        unit=body.unit,
        active=body.active,
        audit={"changes": body.model_dump(exclude_none=True)},
    )
    return UserOut.of(user)


@router.post(
    "/users/{user_id}/password",
    response_model=PasswordReset,
    tags=["users"],
    summary="Reset a user's password to a new one-time password (revokes their tokens)",
)
def reset_password(user_id: RowId, service: ServiceDep, admin: Admin) -> PasswordReset:
    _user, password = service.accounts.reset_password(admin, user_id)
    return PasswordReset(one_time_password=password)


@router.post(
    "/users/{user_id}/unlock",
    response_model=UnlockOut,
    tags=["users"],
    summary="Clear the waits that wrong passwords put on a user's account",
)
def unlock_user(user_id: RowId, service: ServiceDep, admin: Admin) -> UnlockOut:
    return UnlockOut(addresses_freed=service.accounts.unlock(admin, user_id))
