"""Roles, ordered: each one can do everything the roles below it can."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    INVESTIGATOR = "investigator"
    """Searches, with a case number and a purpose."""
    SUPERVISOR = "supervisor"
    """Also reviews the searches of their own unit."""
    ADMIN = "admin"
    """Also manages users, sources, ingestion and settings; reviews every unit."""

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.INVESTIGATOR: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}
