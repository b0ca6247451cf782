"""Carrying privacy actions out again on an atlas restored from a backup, so that a restore
never brings back what was erased after its snapshot.

The actions come from the hash-chained audit log, where every privacy action is mirrored
(``privacy_<action>``, with its target and details): the entries after the snapshot's audit
head, read from the atlas that is being replaced or from a privacy journal kept beside the
backups (:mod:`faceatlas.services.backup`). Erasures by face or image id, by source URL,
domain takedowns and opt-outs (requested, carried out, rejected) are replayed; an opt-out made
after the snapshot comes back with its templates, and is carried out at the threshold it was
carried out with. Each replay is logged like the action itself, by its original actor marked
``(restore)``; faces, images and sightings that the snapshot no longer holds are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from faceatlas.errors import ConflictError, NotFoundError
from faceatlas.privacy.erasure import (
    ErasureCounts,
    erase_by_id,
    erase_source_url,
    takedown_domain,
)
from faceatlas.privacy.log import Actor, PrivacyEntry, log_entry
from faceatlas.privacy.optout import OptOutStatus, approve_optout, get_optout, reject_optout
from faceatlas.store import privacy_erasure as rows
from faceatlas.store.backup import BackupStore, OptOutCopy
from faceatlas.types import JsonRecord, record

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = ["REPLAYED_ACTIONS", "ReplayAction", "ReplayOutcome", "replay_actions"]

REPLAYED_ACTIONS = frozenset(
    {
        "erase_faces",
        "erase_images",
        "erase_source_url",
        "takedown_domain",
        "takedown_recorded",
        "optout_requested",
        "optout_erasure",
        "optout_rejected",
    }
)
"""Privacy actions a restore carries out again (retention runs again by itself)."""
AUDIT_PREFIX = "privacy_"
RESTORE_MARK = " (restore)"


@record
class ReplayAction:
    """A privacy action to carry out again: the audit entry that recorded it (``seq`` in the
    log it came from) and, for opt-outs, the request with its templates."""

    seq: int
    at: str
    action: str
    target: str
    actor: str
    case_ref: str | None
    details: dict[str, Any]
    optout: OptOutCopy | None = None

    @classmethod
    def from_audit(
        cls, seq: int, at: str, audit_action: str, actor: str, case_ref: str | None,
        details: dict[str, Any], optout: OptOutCopy | None = None,
    ) -> ReplayAction | None:  # fmt: skip
        """The action an audit entry records, or ``None`` when it is not one to replay."""
        action = audit_action.removeprefix(AUDIT_PREFIX)
        if not audit_action.startswith(AUDIT_PREFIX) or action not in REPLAYED_ACTIONS:
            return None
        target = str(details.get("target", ""))
        return cls(seq, at, action, target, actor, case_ref, details, optout)

    @property
    def request_id(self) -> int | None:
        """The opt-out request an ``optout_*`` action is about."""
        if not self.action.startswith("optout_"):
            return None
        return int(self.target.removeprefix("optout:"))


@record
class ReplayOutcome(JsonRecord):
    seq: int
    action: str
    target: str
    outcome: str


def replay_actions(scope: PrivacyScope, actions: Sequence[ReplayAction]) -> list[ReplayOutcome]:
    """Carry ``actions`` out on the restored atlas, oldest first."""
    out = []
    for action in sorted(actions, key=lambda a: a.seq):
        by = Actor(action.actor[: 64 - len(RESTORE_MARK)] + RESTORE_MARK, action.case_ref)
        outcome = _HANDLERS[action.action](scope, action, by)
        out.append(ReplayOutcome(action.seq, action.action, action.target, outcome))
    return out


def _counts(counts: ErasureCounts) -> str:
    done = {k: v for k, v in counts.as_dict().items() if v}
    return "erased " + (", ".join(f"{v} {k}" for k, v in done.items()) or "nothing more")


def _by_id(scope: PrivacyScope, action: ReplayAction, by: Actor) -> str:
    kind: Literal["face", "image"] = "face" if action.action == "erase_faces" else "image"
    ids = [int(i) for i in action.target.split(":", 1)[1].split(",") if i]
    found = rows.existing_ids(scope.gallery.catalog, kind, ids)
    if not found:
        return f"no such {kind} in the snapshot: nothing to erase"
    return _counts(erase_by_id(scope, kind, sorted(found), by))


def _url(scope: PrivacyScope, action: ReplayAction, by: Actor) -> str:
    return _counts(erase_source_url(scope, action.target.removeprefix("url:"), by))


def _domain(scope: PrivacyScope, action: ReplayAction, by: Actor) -> str:
    return _counts(takedown_domain(scope, action.target.removeprefix("domain:"), by))


def _request(scope: PrivacyScope, action: ReplayAction, by: Actor) -> OptOutStatus | None:
    """The request's status in the restored atlas, after bringing it back (logged, with its
    templates' digest) when the snapshot lacks it; ``None`` when it is lacking and no copy
    came with the action."""
    request_id = action.request_id
    assert request_id is not None
    copy = action.optout
    if copy is not None and BackupStore(scope.gallery.catalog.db).put_optout_copy(copy):
        details = {"templates": len(copy.templates), "templates_sha256": copy.templates_sha256}
        log_entry(scope, PrivacyEntry("optout_requested", action.target, by, details))
    try:
        return get_optout(scope, request_id).status
    except NotFoundError:  # not in the snapshot, and no copy came with the action
        return None


def _requested(scope: PrivacyScope, action: ReplayAction, by: Actor) -> str:
    status = _request(scope, action, by)
    return "request missing: no copy of it" if status is None else f"request {status.value}"


def _carried_out(scope: PrivacyScope, action: ReplayAction, by: Actor) -> str:
    status = _request(scope, action, by)
    if status is None:
        return "request missing: no copy of its templates, nothing erased"
    if status in (OptOutStatus.COMPLETED, OptOutStatus.REJECTED):
        return f"already {status.value} in the snapshot"
    threshold = action.details.get("threshold")
    given = None if threshold is None else (float(threshold), "as carried out")
    assert action.request_id is not None
    receipt = approve_optout(scope, action.request_id, by, at_threshold=given)
    return _counts(receipt.erased)


def _rejected(scope: PrivacyScope, action: ReplayAction, by: Actor) -> str:
    status = _request(scope, action, by)
    if status is not OptOutStatus.PENDING:
        return "nothing to reject"
    assert action.request_id is not None
    try:
        reject_optout(scope, action.request_id, by)
    except ConflictError as exc:
        return exc.message
    return "rejected; its templates deleted"


_HANDLERS: dict[str, Callable[[PrivacyScope, ReplayAction, Actor], str]] = {
    "erase_faces": _by_id,
    "erase_images": _by_id,
    "erase_source_url": _url,
    "takedown_domain": _domain,
    "takedown_recorded": _domain,
    "optout_requested": _requested,
    "optout_erasure": _carried_out,
    "optout_rejected": _rejected,
}
