"""Who may do what in a case.

Membership decides visibility: a case is visible to its members and to its reviewers
(admins, and supervisors of the unit of the case's owner, as in the audit review). To
anyone else a case does not exist: its records answer :class:`NotFoundError`, never
:class:`PermissionDeniedError`, so that a case number leaks nothing.

| action | who |
|---|---|
| read | members, reviewers |
| manage (members, close) | the owner, reviewers |
| search, examine | members with the role owner or examiner |
| verify | members with the role owner, examiner or verifier (never their own decision) |

Reviewers who are not members read and manage but do not search, examine or verify: to
take part they add themselves as members, and are then bound by the blind-verification rule.
"""

from __future__ import annotations

from enum import StrEnum

from faceatlas.accounts import Role, User
from faceatlas.errors import ConflictError, NotFoundError, PermissionDeniedError
from faceatlas.store.case_records import CaseMember, CaseRecord, CaseRole, CaseStatus
from faceatlas.store.cases import CaseStore
from faceatlas.types import record

__all__ = ["CaseAction", "CaseGrant", "check_access", "check_case_access", "is_reviewer"]


class CaseAction(StrEnum):
    READ = "read"
    MANAGE = "manage"
    SEARCH = "search"
    EXAMINE = "examine"
    VERIFY = "verify"


_MEMBER_ROLES: dict[CaseAction, frozenset[CaseRole]] = {
    CaseAction.READ: frozenset(CaseRole),
    CaseAction.MANAGE: frozenset({CaseRole.OWNER}),
    CaseAction.SEARCH: frozenset({CaseRole.OWNER, CaseRole.EXAMINER}),
    CaseAction.EXAMINE: frozenset({CaseRole.OWNER, CaseRole.EXAMINER}),
    CaseAction.VERIFY: frozenset({CaseRole.OWNER, CaseRole.EXAMINER, CaseRole.VERIFIER}),
}
_REVIEWER_ACTIONS = frozenset({CaseAction.READ, CaseAction.MANAGE})
_WHILE_OPEN = frozenset({CaseAction.SEARCH, CaseAction.EXAMINE, CaseAction.VERIFY})


@record
class CaseGrant:
    """A case a user may act on, and how: as ``member`` (or ``None``), as reviewer."""

    case: CaseRecord
    member: CaseMember | None
    reviewer: bool


def is_reviewer(user: User, case: CaseRecord) -> bool:
    """Admins review every case; supervisors the cases of their own unit's owners."""
    if user.role is Role.ADMIN:
        return True
    return user.role.allows(Role.SUPERVISOR) and user.unit == case.owner_unit


def check_access(store: CaseStore, user: User, number: str, action: CaseAction) -> CaseGrant:
    """The case ``number`` if ``user`` may take ``action`` on it.

    Raises :class:`NotFoundError` when the case does not exist or is not visible to the
    user, :class:`PermissionDeniedError` when it is visible but the action is not theirs,
    and :class:`ConflictError` for a search, decision or verification on a closed case.
    """
    case = store.by_number(number.strip())
    if case is None:
        raise NotFoundError(f"case {number} not found")
    return check_case_access(store, user, case, action)


def check_case_access(
    store: CaseStore, user: User, case: CaseRecord, action: CaseAction
) -> CaseGrant:
    """:func:`check_access` for a case already read."""
    member = store.member(case.id, user.username)
    reviewer = is_reviewer(user, case)
    if member is None and not reviewer:
        raise NotFoundError(f"case {case.number} not found")
    allowed = (member is not None and member.role in _MEMBER_ROLES[action]) or (
        reviewer and action in _REVIEWER_ACTIONS
    )
    if not allowed:
        held = (
            f"your role in case {case.number} is {member.role.value}"
            if member
            else (f"you review case {case.number} but are not a member")
        )
        raise PermissionDeniedError(f"{held}: it does not allow you to {action.value}")
    if action in _WHILE_OPEN and case.status is not CaseStatus.OPEN:
        raise ConflictError(f"case {case.number} is closed: no more searches or decisions")
    return CaseGrant(case, member, reviewer)
