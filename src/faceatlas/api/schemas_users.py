"""Request and response models of users, passwords and API tokens: never a password or
token hash."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, Field

from faceatlas.accounts import Role, User
from faceatlas.api.schemas import record_view

__all__ = [
    "PasswordChange",
    "PasswordReset",
    "TokenCreate",
    "TokenInfo",
    "TokenOut",
    "UnlockOut",
    "UserCreate",
    "UserCreated",
    "UserOut",
    "UserUpdate",
]


@record_view
class UserOut(User):
    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(**asdict(u))


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    role: Role
    unit: str = Field(default="", max_length=100)


class UserCreated(BaseModel):
    user: UserOut
    one_time_password: str = Field(description="Shown once; must be changed at first login.")


class UserUpdate(BaseModel):
    role: Role | None = None
    unit: str | None = Field(default=None, max_length=100)
    active: bool | None = None


class PasswordReset(BaseModel):
    one_time_password: str


class PasswordChange(BaseModel):
    username: str = Field(max_length=64)
    current_password: str = Field(max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class TokenCreate(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    name: str = Field(default="", max_length=100, description="A label to recognise the token.")


class TokenOut(BaseModel):
    id: int
    token: str = Field(description="Bearer token, shown once.")
    token_type: str = "bearer"
    expires_at: str


class TokenInfo(BaseModel):
    id: int
    kind: str
    name: str
    created_at: str
    expires_at: str
    revoked_at: str | None


class UnlockOut(BaseModel):
    addresses_freed: int = Field(
        description="Client addresses that were waiting after wrong passwords."
    )
