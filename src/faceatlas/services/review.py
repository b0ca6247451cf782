"""Audit review and the settings view: who may read which searches, and what governs them."""

from __future__ import annotations

from typing import Any

from faceatlas.accounts import Role, User
from faceatlas.atlas import Atlas
from faceatlas.audit import AuditEntry, VerifyReport
from faceatlas.errors import NotFoundError, PermissionDeniedError

__all__ = ["AuditReview", "review_scope"]


def review_scope(user: User) -> tuple[list[str] | None, str | None]:
    """``(units, actor)`` a user may review: admins all, supervisors their unit,
    investigators only their own searches."""
    if user.role is Role.ADMIN:
        return None, None
    if user.role is Role.SUPERVISOR:
        return [user.unit], None
    return None, user.username


class AuditReview:
    """Reading the audit log on behalf of a user, within their review scope."""

    def __init__(self, atlas: Atlas) -> None:
        self.atlas = atlas

    def searches(
        self,
        user: User,
        *,
        actor: str | None = None,
        case_number: str | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[AuditEntry]:
        units, own = review_scope(user)
        if own is not None:
            if actor is not None and actor != own:
                raise PermissionDeniedError("investigators review only their own searches")
            actor = own
        return self.atlas.audit.entries(
            action="search",
            actor=actor,
            case_number=case_number,
            units=units,
            limit=limit,
            before_seq=before_seq,
        )

    def search_summary(self, user: User) -> dict[str, list[dict[str, Any]]]:
        units, own = review_scope(user)
        if own is not None:
            raise PermissionDeniedError("only supervisors and admins see search summaries")
        return self.atlas.audit.summary(units=units)

    def entries(
        self, *, action: str | None = None, limit: int = 100, before_seq: int | None = None
    ) -> list[AuditEntry]:
        """Every audit entry (all actions), newest first; the caller checks the admin role."""
        return self.atlas.audit.entries(action=action, limit=limit, before_seq=before_seq)

    def verify(self) -> VerifyReport:
        """Recompute the audit log's hash chain; the caller checks the admin role."""
        return self.atlas.audit.verify()

    def user_for_review(self, reviewer: User, username: str) -> User:
        target = self.atlas.accounts.by_name(username)
        units, own = review_scope(reviewer)
        if own is not None and target.username != own:
            raise NotFoundError(f"user {username!r} does not exist")
        if units is not None and target.unit not in units:
            raise NotFoundError(f"user {username!r} does not exist")
        return target
