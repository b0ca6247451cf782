"""User and credential rows: ``users`` and ``api_tokens`` (sessions and API tokens).

Only hashes are stored: an Argon2id hash of each password and the SHA-256 of each
token; the rules that make and check them live in :mod:`faceatlas.accounts`.
"""

from __future__ import annotations

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import Repository, new_id, record_from, values_of
from faceatlas.types import record

__all__ = ["AccountStore", "NewToken", "NewUser", "TokenRow", "UserChange", "UserRow"]


@record
class UserRow:
    id: int
    username: str
    password_hash: str
    role: str
    unit: str
    active: bool
    must_change_password: bool
    created_at: str


@record
class NewUser:
    username: str
    password_hash: str
    role: str
    unit: str
    must_change_password: bool
    created_at: str


@record
class TokenRow:
    id: int
    user_id: int
    kind: str
    name: str
    csrf_token: str | None
    created_at: str
    expires_at: str
    revoked_at: str | None


@record
class NewToken:
    user_id: int
    token_sha256: str
    kind: str
    name: str
    csrf_token: str | None
    created_at: str
    expires_at: str


@record
class UserChange:
    """The fields of a user to change; ``None`` leaves a field as it is."""

    role: str | None = None
    unit: str | None = None
    active: bool | None = None


class AccountStore(Repository):
    """The ``users`` and ``api_tokens`` tables."""

    # --- users -----------------------------------------------------------------------

    def count_users(self) -> int:
        return self._count(t.users)

    def add_user(self, user: NewUser) -> int | None:
        """Insert an active user; returns its id, or ``None`` when the name is taken."""
        with self.db.begin() as conn:
            exists = conn.execute(
                sa.select(t.users.c.id).where(t.users.c.username == user.username)
            ).first()
            if exists is not None:
                return None
            return new_id(conn.execute(t.users.insert().values(**values_of(user), active=True)))

    def user(self, user_id: int) -> UserRow | None:
        return self._user_where(t.users.c.id == user_id)

    def user_named(self, username: str) -> UserRow | None:
        return self._user_where(t.users.c.username == username)

    def _user_where(self, condition: sa.ColumnElement[bool]) -> UserRow | None:
        return self._one(
            sa.select(t.users).where(condition), lambda row: record_from(UserRow, row, t.users)
        )

    def users(self) -> list[UserRow]:
        """Every user, by name."""
        rows = self._all(sa.select(t.users).order_by(t.users.c.username))
        return [record_from(UserRow, r, t.users) for r in rows]

    def update_user(self, user_id: int, change: UserChange) -> None:
        """Change the given fields (none given: nothing changes)."""
        values = {k: v for k, v in values_of(change).items() if v is not None}
        if values:
            self._write(t.users.update().where(t.users.c.id == user_id).values(**values))

    def set_password_hash(
        self, user_id: int, password_hash: str, *, must_change_password: bool | None = None
    ) -> None:
        """Store a new hash (and, when given, whether it must be changed at next login)."""
        values: dict[str, object] = {"password_hash": password_hash}
        if must_change_password is not None:
            values["must_change_password"] = must_change_password
        self._write(t.users.update().where(t.users.c.id == user_id).values(**values))

    # --- tokens ------------------------------------------------------------------------

    def add_token(self, token: NewToken) -> int:
        return self._insert(t.api_tokens, **values_of(token))

    def token_with_user(self, token_sha256: str) -> tuple[TokenRow, UserRow] | None:
        """The token with this hash and the user it belongs to."""
        row = self._first(
            sa.select(t.api_tokens, t.users)
            .join(t.users, t.api_tokens.c.user_id == t.users.c.id)
            .where(t.api_tokens.c.token_sha256 == token_sha256)
        )
        if row is None:
            return None
        return record_from(TokenRow, row, t.api_tokens), record_from(UserRow, row, t.users)

    def tokens(self, user_id: int) -> list[TokenRow]:
        """A user's tokens, oldest first."""
        rows = self._all(
            sa.select(t.api_tokens)
            .where(t.api_tokens.c.user_id == user_id)
            .order_by(t.api_tokens.c.id)
        )
        return [record_from(TokenRow, r, t.api_tokens) for r in rows]

    def revoke_token(self, token_id: int, at: str, *, user_id: int | None = None) -> bool:
        """Revoke one unrevoked token (only ``user_id``'s, when set); False when none was."""
        where = [t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None)]
        if user_id is not None:
            where.append(t.api_tokens.c.user_id == user_id)
        return bool(self._write(t.api_tokens.update().where(*where).values(revoked_at=at)))

    def revoke_tokens(self, user_id: int, at: str) -> int:
        """Revoke every unrevoked token of a user; returns how many."""
        return self._write(
            t.api_tokens.update()
            .where(t.api_tokens.c.user_id == user_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
