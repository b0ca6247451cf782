"""User and credential rows: ``users`` and ``api_tokens`` (sessions and API tokens).

Only hashes are stored: an Argon2id hash of each password and the SHA-256 of each
token; the rules that make and check them live in :mod:`faceatlas.accounts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import Database, new_id

__all__ = ["AccountStore", "NewToken", "NewUser", "TokenRow", "UserRow"]


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    password_hash: str
    role: str
    unit: str
    active: bool
    must_change_password: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    password_hash: str
    role: str
    unit: str
    must_change_password: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    user_id: int
    kind: str
    name: str
    csrf_token: str | None
    created_at: str
    expires_at: str
    revoked_at: str | None


@dataclass(frozen=True, slots=True)
class NewToken:
    user_id: int
    token_sha256: str
    kind: str
    name: str
    csrf_token: str | None
    created_at: str
    expires_at: str


def _user(m: Any) -> UserRow:
    return UserRow(
        id=int(m[t.users.c.id]),
        username=str(m[t.users.c.username]),
        password_hash=str(m[t.users.c.password_hash]),
        role=str(m[t.users.c.role]),
        unit=str(m[t.users.c.unit]),
        active=bool(m[t.users.c.active]),
        must_change_password=bool(m[t.users.c.must_change_password]),
        created_at=str(m[t.users.c.created_at]),
    )


def _token(m: Any) -> TokenRow:
    a = t.api_tokens.c
    return TokenRow(
        id=int(m[a.id]),
        user_id=int(m[a.user_id]),
        kind=str(m[a.kind]),
        name=str(m[a.name]),
        csrf_token=m[a.csrf_token],
        created_at=str(m[a.created_at]),
        expires_at=str(m[a.expires_at]),
        revoked_at=m[a.revoked_at],
    )


class AccountStore:
    """The ``users`` and ``api_tokens`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- users -----------------------------------------------------------------------

    def count_users(self) -> int:
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(t.users)).scalar_one())

    def add_user(self, user: NewUser) -> int | None:
        """Insert an active user; returns its id, or ``None`` when the name is taken."""
        with self.db.begin() as conn:
            exists = conn.execute(
                sa.select(t.users.c.id).where(t.users.c.username == user.username)
            ).first()
            if exists is not None:
                return None
            return new_id(
                conn.execute(
                    t.users.insert().values(
                        username=user.username,
                        password_hash=user.password_hash,
                        role=user.role,
                        unit=user.unit,
                        active=True,
                        must_change_password=user.must_change_password,
                        created_at=user.created_at,
                    )
                )
            )

    def user(self, user_id: int) -> UserRow | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
        return None if row is None else _user(row._mapping)

    def user_named(self, username: str) -> UserRow | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.username == username)).first()
        return None if row is None else _user(row._mapping)

    def users(self) -> list[UserRow]:
        """Every user, by name."""
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(t.users).order_by(t.users.c.username)).all()
        return [_user(r._mapping) for r in rows]

    def update_user(
        self,
        user_id: int,
        *,
        role: str | None = None,
        unit: str | None = None,
        active: bool | None = None,
    ) -> None:
        """Change the given fields (none given: nothing changes)."""
        values: dict[str, object] = {}
        if role is not None:
            values["role"] = role
        if unit is not None:
            values["unit"] = unit
        if active is not None:
            values["active"] = active
        if values:
            with self.db.begin() as conn:
                conn.execute(t.users.update().where(t.users.c.id == user_id).values(**values))

    def set_password_hash(
        self, user_id: int, password_hash: str, *, must_change_password: bool | None = None
    ) -> None:
        """Store a new hash (and, when given, whether it must be changed at next login)."""
        values: dict[str, object] = {"password_hash": password_hash}
        if must_change_password is not None:
            values["must_change_password"] = must_change_password
        with self.db.begin() as conn:
            conn.execute(t.users.update().where(t.users.c.id == user_id).values(**values))

    # --- tokens ------------------------------------------------------------------------

    def add_token(self, token: NewToken) -> int:
        with self.db.begin() as conn:
            return new_id(
                conn.execute(
                    t.api_tokens.insert().values(
                        user_id=token.user_id,
                        token_sha256=token.token_sha256,
                        kind=token.kind,
                        name=token.name,
                        csrf_token=token.csrf_token,
                        created_at=token.created_at,
                        expires_at=token.expires_at,
                    )
                )
            )

    def token_with_user(self, token_sha256: str) -> tuple[TokenRow, UserRow] | None:
        """The token with this hash and the user it belongs to."""
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(t.api_tokens, t.users)
                .join(t.users, t.api_tokens.c.user_id == t.users.c.id)
                .where(t.api_tokens.c.token_sha256 == token_sha256)
            ).first()
        if row is None:
            return None
        return _token(row._mapping), _user(row._mapping)

    def tokens(self, user_id: int) -> list[TokenRow]:
        """A user's tokens, oldest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(t.api_tokens)
                .where(t.api_tokens.c.user_id == user_id)
                .order_by(t.api_tokens.c.id)
            ).all()
        return [_token(r._mapping) for r in rows]

    def revoke_token(self, token_id: int, at: str, *, user_id: int | None = None) -> bool:
        """Revoke one unrevoked token (only ``user_id``'s, when set); False when none was."""
        where = [t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None)]
        if user_id is not None:
            where.append(t.api_tokens.c.user_id == user_id)
        with self.db.begin() as conn:
            done = conn.execute(t.api_tokens.update().where(*where).values(revoked_at=at)).rowcount
        return bool(done)

    def revoke_tokens(self, user_id: int, at: str) -> int:
        """Revoke every unrevoked token of a user; returns how many."""
        with self.db.begin() as conn:
            return int(
                conn.execute(
                    t.api_tokens.update()
                    .where(t.api_tokens.c.user_id == user_id, t.api_tokens.c.revoked_at.is_(None))
                    .values(revoked_at=at)
                ).rowcount
            )
