"""Who may open which result: investigators see only the faces and identities their own
audited searches (or their own curation) showed them in the last 24 hours; supervisors
and admins review results, so they may open any."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from faceatlas.accounts import Role, User
from faceatlas.atlas import Atlas
from faceatlas.errors import PermissionDeniedError

__all__ = ["SHOWN_WINDOW", "ViewLedger"]

SHOWN_WINDOW = timedelta(hours=24)
AUDIT_LOOKBACK = 500
"""Audit entries of a user read back when the in-memory ledger does not know a result."""


class ViewLedger:
    """What each user was shown recently, kept in memory and backed by the audit log (so
    it survives a restart and sees searches made by other processes)."""

    def __init__(self, atlas: Atlas) -> None:
        self.atlas = atlas
        self._faces: dict[str, dict[int, float]] = {}
        self._identities: dict[str, dict[int, float]] = {}
        self._lock = threading.Lock()

    def shown(self, user: User, face_ids: Iterable[int], identity_ids: Iterable[int]) -> None:
        """Note the faces and identities an audited search just showed ``user``."""
        now = time.time()
        with self._lock:
            seen = self._faces.setdefault(user.username, {})
            for face_id in face_ids:
                seen[face_id] = now
            granted = self._identities.setdefault(user.username, {})
            for identity_id in identity_ids:
                granted[int(identity_id)] = now

    def grant_identities(self, user: User, identity_ids: Sequence[int]) -> None:
        """Let ``user`` open identities their own curation just created (audited as well)."""
        self.shown(user, (), identity_ids)

    def ensure_may_view(self, user: User, face_id: int) -> None:
        """``forbidden`` unless ``user`` may open the face (see the module docstring)."""
        if user.role.allows(Role.SUPERVISOR):
            return
        cutoff = time.time() - SHOWN_WINDOW.total_seconds()
        with self._lock:
            when = self._faces.get(user.username, {}).get(face_id)
        if when is not None and when >= cutoff:
            return
        since = _since()
        for entry in self.atlas.audit.entries(
            action="search", actor=user.username, limit=AUDIT_LOOKBACK
        ):
            if entry.at < since:
                break
            if face_id in entry.details.get("result_face_ids", []):
                with self._lock:
                    self._faces.setdefault(user.username, {})[face_id] = time.time()
                return
        identity_id = self.atlas.identities.identity_of(face_id)
        if identity_id is not None and self.may_view_identity(user, identity_id):
            return
        raise PermissionDeniedError(
            "this face was not among the results of one of your searches in the last 24 hours"
        )

    def may_view_identity(self, user: User, identity_id: int) -> bool:
        """Supervisors and admins open any identity; investigators those their own audited
        searches showed them, or their own curation touched, in the last 24 hours."""
        viewable = self.viewable_identities(user)
        return viewable is None or identity_id in viewable

    def viewable_identities(self, user: User) -> set[int] | None:
        """Identity ids ``user`` may open (``None``: every one)."""
        if user.role.allows(Role.SUPERVISOR):
            return None
        since = _since()
        found: set[int] = set()
        for entry in self.atlas.audit.entries(actor=user.username, limit=AUDIT_LOOKBACK):
            if entry.at < since:
                break
            found.update(entry.details.get("result_identity_ids", []))
            found.update(entry.details.get("identity_ids", []))
        cutoff = time.time() - SHOWN_WINDOW.total_seconds()
        with self._lock:
            granted = self._identities.get(user.username, {})
            found.update(i for i, when in granted.items() if when >= cutoff)
        return found


def _since() -> str:
    return (datetime.now(UTC) - SHOWN_WINDOW).isoformat(timespec="milliseconds")
