"""Accounts as every front end manages them: sign-in with per-address throttling, user
management by administrators (audited), and the local operator the command line acts as.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from faceatlas.accounts import Credential, IssuedToken, Role, TokenKind, User
from faceatlas.accounts.throttle import LoginThrottle
from faceatlas.atlas import Atlas
from faceatlas.audit import AuditEntry
from faceatlas.errors import AuthenticationError, PermissionDeniedError, RateLimitedError

__all__ = [
    "LOCAL_OPERATOR_ROLE",
    "OPERATOR",
    "AccountDesk",
    "audit_role",
    "check_self_change",
    "local_operator",
]

Record = Callable[..., AuditEntry]

LOCAL_OPERATOR_ROLE = Role.ADMIN
"""The command line runs with the rights of the atlas files' owner, who can read and change
everything in them directly, so it acts with admin-level rights rather than a pretended
lesser role; its audit entries name it ``cli:<os user>`` with the role :data:`OPERATOR`."""
OPERATOR = "operator"
"""The role the audit log records for the command line's actions."""
CLI_PREFIX = "cli:"
"""Account names cannot hold ``:``, so no account can pass for the local operator."""


def local_operator(name: str | None = None) -> User:
    """The user the command line acts as: ``cli:<name>`` (by default the login name),
    admin-level, in no unit.

    Not an account: it cannot sign in to the web or the API, it only names the actor of
    the command line's audited actions."""
    name = name or _os_user()
    return User(
        id=0,
        username=f"{CLI_PREFIX}{name}",
        role=LOCAL_OPERATOR_ROLE,
        unit="",
        active=True,
        must_change_password=False,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container with an unnamed uid)
        return "unknown"


def audit_role(user: User) -> str:
    """The role an audit entry records for ``user``: :data:`OPERATOR` for the command line."""
    return OPERATOR if user.id == 0 and user.username.startswith(CLI_PREFIX) else user.role.value


def check_self_change(actor: User, user_id: int, *, role: Role | None, active: bool | None) -> None:
    """``forbidden`` when an administrator would change their own role or deactivate
    themselves (another administrator has to), so nobody locks themselves out by mistake."""
    if user_id != actor.id:
        return
    if active is False or (role is not None and role is not actor.role):
        raise PermissionDeniedError("admins cannot demote or deactivate themselves")


class AccountDesk:
    """Sign-in and user management; ``record`` audits an action as its actor."""

    def __init__(
        self,
        atlas: Atlas,
        record: Record,
        *,
        on_login_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.atlas = atlas
        self.throttle = LoginThrottle()
        self._record = record
        self._on_failure = on_login_failure or (lambda _reason: None)

    def authenticate(self, username: str, password: str, client: str) -> User:
        """Check a password; wrong ones slow down that account from that address only
        (:class:`faceatlas.accounts.throttle.LoginThrottle`). ``on_login_failure`` hears of
        each refusal: ``wrong_password`` or ``throttled``."""
        try:
            self.throttle.check(username, client)
        except RateLimitedError:
            self._on_failure("throttled")
            raise
        try:
            user = self.atlas.accounts.authenticate(username, password)
        except AuthenticationError:
            self.throttle.failed(username, client)
            self._on_failure("wrong_password")
            raise
        self.throttle.succeeded(username, client)
        return user

    def change_password(
        self, username: str, current: str, new: str, client: str, /, **details: Any
    ) -> User:
        """A user changes their own password (a one-time one too); revokes their tokens."""
        user = self.authenticate(username, current, client)
        self.atlas.accounts.set_password(user.id, new)
        self._record(user, "password_changed", **details)
        return self.atlas.accounts.get(user.id)

    def unlock(self, admin: User, user_id: int) -> int:
        """Clear the wrong-password waits of an account; returns the addresses freed."""
        target = self.atlas.accounts.get(user_id)
        freed = self.throttle.unlock(target.username)
        self._record(admin, "account_unlocked", user=target.username, addresses=freed)
        return freed

    def resolve(self, secret: str, kind: TokenKind) -> Credential:
        """Who a presented token or session cookie belongs to (``unauthenticated`` if none)."""
        return self.atlas.accounts.resolve(secret, kind)

    def issue(self, user: User, kind: TokenKind, ttl_s: int, *, name: str = "") -> IssuedToken:
        """A new API token or web session for ``user`` (its secret is shown once)."""
        return self.atlas.accounts.issue(user, kind, ttl_s, name=name)

    def tokens(self, user: User) -> list[dict[str, object]]:
        """``user``'s own tokens and sessions (never their secrets)."""
        return self.atlas.accounts.list_tokens(user.id)

    def revoke(self, user: User, token_id: int) -> None:
        """Revoke one of ``user``'s own tokens or sessions."""
        self.atlas.accounts.revoke(token_id, user_id=user.id)

    def get(self, user_id: int) -> User:
        return self.atlas.accounts.get(user_id)

    def by_name(self, username: str) -> User:
        return self.atlas.accounts.by_name(username)

    def list_users(self) -> list[User]:
        return self.atlas.accounts.list_users()

    def create_user(self, admin: User, username: str, role: Role, unit: str) -> tuple[User, str]:
        """A new user and their one-time password."""
        user, password = self.atlas.accounts.create_user(username, role, unit=unit)
        self._record(
            admin, "user_created", user=user.username, role=user.role.value, unit=user.unit
        )
        return user, password

    def update_user(
        self,
        admin: User,
        user_id: int,
        *,
        role: Role | None = None,
        unit: str | None = None,
        active: bool | None = None,
        audit: dict[str, Any] | None = None,
    ) -> User:
        """Change a user's role, unit or active flag (revokes their tokens); ``audit`` is what
        the audit event records of the change."""
        check_self_change(admin, user_id, role=role, active=active)
        user = self.atlas.accounts.update_user(user_id, role=role, unit=unit, active=active)
        self._record(admin, "user_updated", user=user.username, **(audit or {}))
        return user

    def reset_password(self, admin: User, user_id: int) -> tuple[User, str]:
        """A new one-time password for a user (revokes their tokens)."""
        user = self.atlas.accounts.get(user_id)
        password = self.atlas.accounts.reset_password(user_id)
        self._record(admin, "password_reset", user=user.username)
        return user, password
