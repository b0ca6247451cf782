"""The privacy action log: who erased, exported or decided what, and the counts.

Entries hold identifiers and counts only, never a selfie, probe, embedding or
thumbnail. Each action is also appended to the hash-chained audit log
(:mod:`faceatlas.audit`, action ``privacy_<action>``) once its transaction
commits, so it is tamper-evident there; this table keeps the privacy-specific
fields and is what ``retention_audit_days`` prunes (the audit log is
append-only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from faceatlas.audit import AuditEvent
from faceatlas.store import Catalog, utc_now
from faceatlas.store import schema as t

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = ["PrivacyAction", "log_action", "mirror_to_audit", "read_actions", "record_action"]

MAX_LABEL = 200


@dataclass(frozen=True, slots=True)
class PrivacyAction:
    id: int
    at: str
    action: str
    actor: str
    case_ref: str | None
    target: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_action(
    conn: sa.Connection,
    action: str,
    *,
    actor: str,
    target: str,
    case_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: str | None = None,
) -> None:
    """Append one entry inside the caller's transaction (``at`` defaults to now)."""
    conn.execute(
        t.privacy_actions.insert().values(
            at=at or utc_now(),
            action=action,
            actor=actor[:MAX_LABEL],
            case_ref=None if case_ref is None else case_ref[:MAX_LABEL],
            target=target,
            details=json.dumps(dict(details or {}), sort_keys=True),
        )
    )


def mirror_to_audit(
    scope: PrivacyScope,
    action: str,
    *,
    actor: str,
    target: str,
    case_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
    role: str = "operator",
) -> None:
    """Append the action to the hash-chained audit log too (after its transaction commits)."""
    scope.audit.append(
        AuditEvent(
            actor=actor[:64],
            actor_role=role,
            actor_unit="",
            action=f"privacy_{action}"[:40],
            case_number=case_ref,
            details={"target": target, **dict(details or {})},
        )
    )


def log_action(
    scope: PrivacyScope,
    action: str,
    *,
    actor: str,
    target: str,
    case_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
    role: str = "operator",
) -> None:
    """Record an action in the privacy log, then in the hash-chained audit log."""
    with scope.gallery.catalog.writer() as w:
        record_action(
            w.conn, action, actor=actor, target=target, case_ref=case_ref, details=details
        )
    mirror_to_audit(
        scope, action, actor=actor, target=target, case_ref=case_ref, details=details, role=role
    )


def read_actions(catalog: Catalog, *, limit: int = 100) -> list[PrivacyAction]:
    """The most recent entries, newest first."""
    with catalog.db.connect() as conn:
        rows = conn.execute(
            sa.select(t.privacy_actions).order_by(t.privacy_actions.c.id.desc()).limit(limit)
        ).all()
    return [
        PrivacyAction(
            id=int(r.id),
            at=r.at,
            action=r.action,
            actor=r.actor,
            case_ref=r.case_ref,
            target=r.target,
            details=json.loads(r.details),
        )
        for r in rows
    ]
