"""User accounts and credentials, stored in the catalog.

Passwords are hashed with Argon2id. Web sessions and API tokens are random
secrets handed to the client once; only their SHA-256 is stored, so a copy of
the database does not hold usable credentials. Either can be revoked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from faceatlas.accounts.roles import Role
from faceatlas.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
)
from faceatlas.store.accounts import (
    AccountStore,
    NewToken,
    NewUser,
    TokenRow,
    UserChange,
    UserRow,
)
from faceatlas.store.rows import Database
from faceatlas.types import picked, record, record_as

__all__ = ["Accounts", "Credential", "IssuedToken", "TokenKind", "User"]

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LEN = 12
MIN_PASSWORD_SCORE = 3
"""zxcvbn's score, 0 to 4: 3 is "safely unguessable" against an offline attack on a slow hash."""
ESTIMATE_CHARS = 100
"""Only the first characters are estimated (the estimate's time grows with length)."""


class TokenKind(StrEnum):
    SESSION = "session"
    """Web app session, carried in an HttpOnly cookie, with a CSRF token."""
    API = "api"
    """Bearer token for the REST API."""


@record
class User:
    id: int
    username: str
    role: Role
    unit: str
    active: bool
    must_change_password: bool
    created_at: str


@record
class Credential:
    """The user behind a presented token, and that token's record."""

    user: User
    token_id: int
    kind: TokenKind
    csrf_token: str | None


@record
class IssuedToken:
    """A new secret; ``secret`` is shown once and never stored."""

    id: int
    secret: str
    csrf_token: str | None
    expires_at: str


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_password() -> str:
    """A random one-time password (about 120 bits)."""
    return secrets.token_urlsafe(15)


def _user(row: UserRow) -> User:
    return record_as(User, row, role=Role(row.role))


def _token_listing(row: TokenRow) -> dict[str, object]:
    return picked(row, "id", "kind", "name", "created_at", "expires_at", "revoked_at")


class Accounts:
    """Users and their credentials over the catalog's database."""

    def __init__(self, db: Database) -> None:
        self.rows = AccountStore(db)
        self._hasher = PasswordHasher()

    # --- users -----------------------------------------------------------------

    def count_users(self) -> int:
        return self.rows.count_users()

    def create_user(
        self, username: str, role: Role, *, unit: str = "", password: str | None = None
    ) -> tuple[User, str]:
        """Create a user; returns it and its password (generated, one-time, when not given).

        A generated password must be changed at first login.
        """
        username = username.strip().lower()
        if not USERNAME_RE.fullmatch(username):
            raise InvalidRequestError(
                "username must be 2-64 characters: lower-case letters, digits, '.', '_', '-'"
            )
        generated = password is None
        secret = generate_password() if password is None else password
        _check_password(secret, username)
        user_id = self.rows.add_user(
            NewUser(
                username=username,
                password_hash=self._hasher.hash(secret),
                role=role.value,
                unit=unit.strip(),
                must_change_password=generated,
                created_at=_iso(_now()),
            )
        )
        if user_id is None:
            raise ConflictError(f"user {username!r} already exists")
        return self.get(user_id), secret

    def get(self, user_id: int) -> User:
        row = self.rows.user(user_id)
        if row is None:
            raise NotFoundError(f"user {user_id} does not exist")
        return _user(row)

    def by_name(self, username: str) -> User:
        row = self.rows.user_named(username.strip().lower())
        if row is None:
            raise NotFoundError(f"user {username!r} does not exist")
        return _user(row)

    def list_users(self) -> list[User]:
        return [_user(r) for r in self.rows.users()]

    def update_user(
        self,
        user_id: int,
        *,
        role: Role | None = None,
        unit: str | None = None,
        active: bool | None = None,
    ) -> User:
        """Change role, unit or active flag. Deactivating revokes every credential."""
        self.get(user_id)
        self.rows.update_user(
            user_id,
            UserChange(
                role=None if role is None else role.value,
                unit=None if unit is None else unit.strip(),
                active=active,
            ),
        )
        if active is False or role is not None:
            self.revoke_all(user_id)
        return self.get(user_id)

    def set_password(self, user_id: int, password: str, *, must_change: bool = False) -> None:
        """Set a password and revoke every existing credential of the user.

        A password the user chooses (``must_change`` false) must differ from the current one,
        which for a user signing in for the first time is the one-time password."""
        user = self.get(user_id)
        _check_password(password, user.username)
        if not must_change and self._is_current(user_id, password):
            raise InvalidRequestError(
                "choose a new password: it must differ from the current (or one-time) password"
            )
        self.rows.set_password_hash(
            user_id, self._hasher.hash(password), must_change_password=must_change
        )
        self.revoke_all(user_id)

    def _is_current(self, user_id: int, password: str) -> bool:
        row = self.rows.user(user_id)
        try:
            return row is not None and self._hasher.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def reset_password(self, user_id: int) -> str:
        """A new one-time password, to be changed at next login."""
        secret = generate_password()
        self.set_password(user_id, secret, must_change=True)
        return secret

    def authenticate(self, username: str, password: str) -> User:
        """The active user with this password; one vague error for every failure."""
        row = self.rows.user_named(username.strip().lower())
        failure = AuthenticationError("wrong username or password")
        if row is None:
            # Spend the same time as a real check, so user names cannot be probed by timing.
            _ = self._hasher.hash(password)
            raise failure
        try:
            self._hasher.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise failure from None
        user = _user(row)
        if not user.active:
            raise failure
        if self._hasher.check_needs_rehash(row.password_hash):
            self.rows.set_password_hash(user.id, self._hasher.hash(password))
        return user

    # --- tokens ------------------------------------------------------------------

    def issue(self, user: User, kind: TokenKind, ttl_s: int, *, name: str = "") -> IssuedToken:
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32) if kind is TokenKind.SESSION else None
        now = _now()
        expires = _iso(now + timedelta(seconds=ttl_s))
        token_id = self.rows.add_token(
            NewToken(
                user_id=user.id,
                token_sha256=_sha(secret),
                kind=kind.value,
                name=name[:100],
                csrf_token=csrf,
                created_at=_iso(now),
                expires_at=expires,
            )
        )
        return IssuedToken(token_id, secret, csrf, expires)

    def resolve(self, secret: str, kind: TokenKind) -> Credential:
        """The credential for a presented secret; raises when unknown, expired or revoked."""
        found = self.rows.token_with_user(_sha(secret))
        if found is None:
            raise AuthenticationError("unknown or revoked credentials")
        token, user = found
        if (
            token.kind != kind.value
            or token.revoked_at is not None
            or token.expires_at <= _iso(_now())
            or not user.active
        ):
            raise AuthenticationError("unknown, expired or revoked credentials")
        return Credential(_user(user), token.id, kind, token.csrf_token)

    def list_tokens(self, user_id: int) -> list[dict[str, object]]:
        return [_token_listing(r) for r in self.rows.tokens(user_id)]

    def revoke(self, token_id: int, *, user_id: int | None = None) -> None:
        """Revoke one token (only the given user's, when ``user_id`` is set)."""
        if not self.rows.revoke_token(token_id, _iso(_now()), user_id=user_id):
            raise NotFoundError(f"no active token {token_id}")

    def revoke_all(self, user_id: int) -> int:
        return self.rows.revoke_tokens(user_id, _iso(_now()))

    # --- first run ------------------------------------------------------------------

    def bootstrap_admin(self, username: str = "admin") -> str | None:
        """Create the first admin when there are no users; returns its one-time password.

        Returns ``None`` when users exist already: there are never default credentials.
        """
        if self.count_users() > 0:
            return None
        _, password = self.create_user(username, Role.ADMIN)
        return password


def _check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LEN:
        raise InvalidRequestError(f"password must have at least {MIN_PASSWORD_LEN} characters")
    if len(password) > 1024:
        raise InvalidRequestError("password is too long")
    # zxcvbn knows common passwords, names, words, dates, keyboard patterns and substitutions;
    # the user's own name and the product's count as known words
    estimate = zxcvbn(
        password[:ESTIMATE_CHARS], user_inputs=[username, *username.split("."), "faceatlas"]
    )
    if int(estimate["score"]) < MIN_PASSWORD_SCORE:
        hint = str(estimate.get("feedback", {}).get("warning") or "")
        raise InvalidRequestError(
            "this password is too easy to guess"
            + (f" ({hint.rstrip('.').lower()})" if hint else "")
            + ": use a longer phrase of unrelated words"
        )
