"""The privacy action log: who erased, exported or decided what, and the counts.

Entries hold identifiers and counts only, never a selfie, probe, embedding or
thumbnail. Each action is also appended to the hash-chained audit log
(:mod:`faceatlas.audit`, action ``privacy_<action>``) once its transaction
commits, so it is tamper-evident there; this table keeps the privacy-specific
fields and is what ``retention_audit_days`` prunes (the audit log is
append-only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any

from faceatlas.audit import AuditEvent
from faceatlas.store import CatalogWriter
from faceatlas.store.privacy import PrivacyAction, add_privacy_action, read_actions
from faceatlas.types import record

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = [
    "Actor",
    "PrivacyAction",
    "PrivacyEntry",
    "log_action",
    "log_entry",
    "mirror_to_audit",
    "read_actions",
    "record_action",
]


@record
class Actor:
    """Who carries an action out, under which case, and their role in the audit log
    (``operator`` for the CLI, the signed-in user's role for the REST API and web app)."""

    name: str
    case_ref: str | None = None
    role: str = "operator"


@record
class PrivacyEntry:
    """One action as logged: what, on which target, by whom, with which counts."""

    action: str
    target: str
    by: Actor
    details: Mapping[str, Any] = field(default_factory=dict)

    def with_details(self, **more: Any) -> PrivacyEntry:
        return replace(self, details={**self.details, **more})


def record_action(w: CatalogWriter, entry: PrivacyEntry, *, at: str | None = None) -> None:
    """Append ``entry`` to the privacy log inside the writer's transaction (``at``: now)."""
    add_privacy_action(
        w.conn,
        entry.action,
        actor=entry.by.name,
        target=entry.target,
        case_ref=entry.by.case_ref,
        details=entry.details,
        at=at,
    )


def mirror_to_audit(scope: PrivacyScope, entry: PrivacyEntry) -> None:
    """Append ``entry`` to the hash-chained audit log too (after its transaction commits)."""
    scope.audit.append(
        AuditEvent(
            actor=entry.by.name[:64],
            actor_role=entry.by.role,
            actor_unit="",
            action=f"privacy_{entry.action}"[:40],
            case_number=entry.by.case_ref,
            details={"target": entry.target, **dict(entry.details)},
        )
    )


def log_entry(scope: PrivacyScope, entry: PrivacyEntry) -> None:
    """Record ``entry`` in the privacy log, then in the hash-chained audit log."""
    with scope.gallery.catalog.writer() as w:
        record_action(w, entry)
    mirror_to_audit(scope, entry)


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
    log_entry(scope, PrivacyEntry(action, target, Actor(actor, case_ref, role), details or {}))
