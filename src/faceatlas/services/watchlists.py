"""Watchlists as every front end uses them: put a face of a photo (or an identity) on a
case's watchlist, approve, renew, delete, list entries and alerts, retry webhook deliveries.

The rules (who may do what, thresholds, expiry, matching, purging) live in
:mod:`faceatlas.cases.watchlist`. Here a probe photo is checked like a search's (upload size,
the user's rate limit, a face that exists and passes the probe quality gate) and turned into
the template the entry watches for; an identity is watched through its best-quality face,
and only by someone who may open that identity.
"""

from __future__ import annotations

import hashlib

from faceatlas.accounts import Role, User
from faceatlas.cases.watch_alerts import ALERT_NOTICE
from faceatlas.cases.watchlist import WatchProbe, WatchRequest
from faceatlas.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from faceatlas.services.identities import IdentityDesk
from faceatlas.services.service import Service
from faceatlas.store.watchlists import AlertRecord, EntryKind, EntryStatus, WatchlistEntry

__all__ = [
    "ALERT_NOTICE",
    "AlertRecord",
    "EntryStatus",
    "WatchRequest",
    "WatchlistDesk",
    "WatchlistEntry",
]


class WatchlistDesk:
    """Watchlist use cases on behalf of a user."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.watch = service.atlas.watchlists

    @property
    def max_days(self) -> int:
        return self.watch.max_days

    def add_photo(
        self, user: User, data: bytes, request: WatchRequest, face: int | None = None
    ) -> WatchlistEntry:
        """A pending entry watching for face ``face`` (default the largest) of a photo."""
        service = self.service
        service.check_upload(data)
        service.limiter.hit(user.username)
        searcher = service.atlas.searcher
        with service.gate.shared():
            faces = searcher.analyze(data)
        chosen, _ = searcher.probe_face(faces, face)
        sha = hashlib.sha256(data).hexdigest()
        probe = WatchProbe(EntryKind.PHOTO, faces[chosen].embedding, probe_sha256=sha)
        return self.watch.create(user, probe, request)

    def add_identity(self, user: User, identity_id: int, request: WatchRequest) -> WatchlistEntry:
        """A pending entry watching for an identity, through its largest, sharpest face."""
        IdentityDesk(self.service).ensure_may_open(user, identity_id)
        atlas = self.service.atlas
        detail = atlas.identities.identity(identity_id)
        faces = atlas.gallery.faces([p.face_id for p in detail.photos])
        if not faces:
            raise NotFoundError(f"identity {identity_id} has no face left")
        best = max(faces.values(), key=lambda f: (f.quality.box_px, f.quality.sharpness, -f.id))
        vector = atlas.catalog.vectors_for_faces(atlas.model_id, [best.id]).get(best.id)
        if vector is None:
            raise NotFoundError(f"face {best.id} of identity {identity_id} has no embedding")
        probe = WatchProbe(EntryKind.IDENTITY, vector, identity_id=identity_id)
        return self.watch.create(user, probe, request)

    def approve(self, user: User, entry_id: int, days: int | None = None) -> WatchlistEntry:
        return self.watch.approve(user, entry_id, days)

    def renew(self, user: User, entry_id: int, days: int) -> WatchlistEntry:
        return self.watch.renew(user, entry_id, days)

    def delete(self, user: User, entry_id: int) -> WatchlistEntry:
        return self.watch.delete(user, entry_id)

    def entries(self, user: User, number: str | None = None) -> list[WatchlistEntry]:
        return self.watch.entries(user, number)

    def entry(self, user: User, entry_id: int) -> WatchlistEntry:
        return self.watch.entry(user, entry_id)

    def alerts(self, user: User, number: str | None = None, limit: int = 200) -> list[AlertRecord]:
        """Alerts of the cases ``user`` may read; their faces may then be opened by ``user``
        like the results of their own searches."""
        if not 1 <= limit <= 1000:
            raise InvalidRequestError("limit must be between 1 and 1000")
        alerts = self.watch.alerts(user, number, limit=limit)
        self.service.ledger.shown(user, [a.face_id for a in alerts], [])
        return alerts

    def deliver(self, user: User) -> int:
        """Retry every pending webhook delivery now (administrators); how many are pending."""
        if not user.role.allows(Role.ADMIN):
            raise PermissionDeniedError("retrying webhook deliveries needs the admin role")
        pending = len(self.watch.store.undelivered())
        self.watch.webhook.kick()
        return pending

    def sweep(self) -> int:
        """End and purge every expired entry and every entry of a closed case now."""
        return self.watch.sweep()
