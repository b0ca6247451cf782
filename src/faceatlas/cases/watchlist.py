"""Watchlists bound to cases: a probe face (or an identity) watched for in new material.

**Entries.** A member who may search a case (owner or examiner, case open) puts a face on
the case's watchlist, asking for a number of days (at most ``watchlist_max_days``) and a
threshold: the one in force for searches (the engine's calibrated threshold) or stricter,
never looser. The entry is *pending* and matches nothing until a second person approves it:
a supervisor of the case owner's unit, or an administrator (the reviewers of the case). The
approval starts the period; a reviewer may renew an active entry, again for at most
``watchlist_max_days`` from the moment of renewal. The requester or a manager of the case
may delete an entry.

**Ending and purging.** An entry ends when it expires, when its case closes, when it is
deleted, when the atlas is re-embedded with another model (its template, made with the old model,
could never match again: the face must be put on the watchlist anew), or (pending) when it waited
``watchlist_max_days`` without approval. Ending deletes
its probe embedding (the template) at once; the entry row stays as the record of what was
watched, by whom and until when. Ended entries are found by :meth:`Watchlists.sweep`, which
runs before every match and every read of the watchlist; until then an entry of a closed
case or past its expiry already matches nothing.

**Alerts.** After every ingest run, the faces the run stored are compared with the active
entries (:mod:`faceatlas.cases.watch_alerts`); each match is stored once per entry and face,
written to the audit log under the entry's case (actor ``watchlist``), and handed to the
webhook (:mod:`faceatlas.cases.webhook`). Time comes from a :class:`Clock`, so expiry can
be tested without waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from faceatlas.accounts import Role, User
from faceatlas.cases.access import CaseAction, is_reviewer
from faceatlas.cases.ledger import iso
from faceatlas.cases.records import checked_text
from faceatlas.cases.watch_alerts import Match, alert_payload, find_matches
from faceatlas.cases.watch_base import (
    SYSTEM_ACTOR,
    Clock,
    SystemClock,
    WatchlistBase,
    WatchProbe,
    WatchRequest,
)
from faceatlas.errors import ConflictError, InvalidRequestError, PermissionDeniedError
from faceatlas.ingest import IngestReport
from faceatlas.store.case_records import CaseRecord, CaseStatus
from faceatlas.store.watchlists import (
    AlertRecord,
    Delivery,
    EndReason,
    EntryStatus,
    NewAlert,
    NewEntry,
    WatchlistEntry,
)

__all__ = ["SYSTEM_ACTOR", "Clock", "SystemClock", "WatchProbe", "WatchRequest", "Watchlists"]


class Watchlists(WatchlistBase):
    """The watchlist rules over one gallery, its audit log and its searcher's threshold."""

    # --- entries -------------------------------------------------------------------------

    def create(self, user: User, probe: WatchProbe, request: WatchRequest) -> WatchlistEntry:
        """A pending entry on the case's watchlist (see the module docstring)."""
        case = self._grant(user, request.case_number, CaseAction.SEARCH)
        days = self._days(request.days)
        floor, source = self.searcher.threshold()
        threshold = request.threshold
        if threshold is None:
            threshold = floor
        elif threshold < floor:
            raise InvalidRequestError(
                f"a watchlist threshold may only be stricter than the one in force "
                f"({floor:.4f}, {source}), not {threshold:.4f}"
            )
        else:
            source = f"request (stricter than {source})"
        text = checked_text(request.label, "the label", required=False)
        entry_id = self.store.add(
            NewEntry(
                case_id=case.id,
                kind=probe.kind,
                label=text,
                probe_sha256=probe.probe_sha256,
                identity_id=probe.identity_id,
                model_id=self.gallery.model_id,
                threshold=float(threshold),
                threshold_source=source,
                requested_days=days,
                requested_by=user.username,
                requested_at=iso(self.clock.now()),
            ),
            probe.vector,
        )
        entry = self._entry(entry_id)
        self.ledger.record(
            user,
            case,
            "watchlist_entry_created",
            entry_id=entry_id,
            kind=probe.kind.value,
            probe_sha256=probe.probe_sha256,
            identity_id=probe.identity_id,
            requested_days=days,
            threshold=round(entry.threshold, 4),
        )
        return entry

    def approve(self, user: User, entry_id: int, days: int | None = None) -> WatchlistEntry:
        """Start a pending entry's period: ``days`` (default: what was asked for) from now."""
        self.sweep()
        entry, case = self._for_reviewer(user, entry_id, "approve")
        if entry.status is not EntryStatus.PENDING:
            raise ConflictError(f"watchlist entry {entry_id} is {entry.status.value}, not pending")
        days = self._days(entry.requested_days if days is None else days)
        now = self.clock.now()
        expires = iso(now + timedelta(days=days))
        if not self.store.approve(entry_id, user.username, iso(now), expires):
            raise ConflictError(f"watchlist entry {entry_id} is no longer pending")
        self.ledger.record(
            user, case, "watchlist_entry_approved", entry_id=entry_id, expires_at=expires
        )
        return self._entry(entry_id)

    def renew(self, user: User, entry_id: int, days: int) -> WatchlistEntry:
        """Move an active entry's expiry to ``days`` from now (at most the maximum)."""
        self.sweep()
        entry, case = self._for_reviewer(user, entry_id, "renew")
        if entry.status is not EntryStatus.ACTIVE:
            raise ConflictError(
                f"watchlist entry {entry_id} is {entry.status.value}: only an active entry is "
                "renewed (an ended one is purged; put the face on the watchlist again)"
            )
        now = self.clock.now()
        expires = iso(now + timedelta(days=self._days(days)))
        if not self.store.renew(entry_id, user.username, iso(now), expires):
            raise ConflictError(f"watchlist entry {entry_id} is no longer active")
        self.ledger.record(
            user, case, "watchlist_entry_renewed", entry_id=entry_id, expires_at=expires
        )
        return self._entry(entry_id)

    def delete(self, user: User, entry_id: int) -> WatchlistEntry:
        """End an entry now and purge its template: its requester or a manager of its case."""
        entry = self._entry(entry_id)
        case = self._case(user, entry.case_id, CaseAction.READ)
        if user.username != entry.requested_by:
            self._case(user, entry.case_id, CaseAction.MANAGE)
        if entry.status is EntryStatus.ENDED:
            return entry
        self._end(entry, case, EndReason.DELETED, user)
        return self._entry(entry_id)

    def entries(self, user: User, number: str | None = None) -> list[WatchlistEntry]:
        """The entries of the cases ``user`` may read (or of case ``number``), newest first."""
        self.sweep()
        return self.store.listed(self._readable(user, number))

    def entry(self, user: User, entry_id: int) -> WatchlistEntry:
        entry = self._entry(entry_id)
        self._case(user, entry.case_id, CaseAction.READ)
        return entry

    def alerts(
        self, user: User, number: str | None = None, *, limit: int = 200
    ) -> list[AlertRecord]:
        """The alerts of the cases ``user`` may read (or of case ``number``), newest first."""
        return self.store.alerts(self._readable(user, number), limit=limit)

    # --- ending ----------------------------------------------------------------------------

    def sweep(self) -> int:
        """End every entry whose case closed, whose template is of a model the atlas no
        longer uses, whose period ran out, or that waited for approval longer than the
        maximum; returns how many ended (their templates purged)."""
        now = self.clock.now()
        stale = iso(now - timedelta(days=self.max_days))
        ended = 0
        cases: dict[int, CaseRecord | None] = {}
        live = (EntryStatus.PENDING, EntryStatus.ACTIVE)
        for entry in self.store.listed(None, live):
            if entry.case_id not in cases:
                cases[entry.case_id] = self.cases.by_id(entry.case_id)
            case = cases[entry.case_id]
            if case is None:
                continue
            ran_out = (
                (entry.expires_at or "") <= iso(now)
                if entry.status is EntryStatus.ACTIVE
                else entry.requested_at <= stale  # pending too long
            )
            reason = None
            if case.status is not CaseStatus.OPEN:
                reason = EndReason.CASE_CLOSED
            elif entry.model_id != self.gallery.model_id:
                reason = EndReason.MODEL_CHANGED
            elif ran_out:
                reason = EndReason.EXPIRED
            if reason is not None:
                ended += self._end(entry, case, reason, None)
        return ended

    def _end(
        self, entry: WatchlistEntry, case: CaseRecord, reason: EndReason, user: User | None
    ) -> int:
        by = SYSTEM_ACTOR if user is None else user.username
        if not self.store.end(entry.id, reason, by, iso(self.clock.now())):
            return 0
        details = {"entry_id": entry.id, "reason": reason.value, "template_purged": True}
        if user is None:
            self._system_record(case, "watchlist_entry_ended", details)
        else:
            self.ledger.record(user, case, "watchlist_entry_ended", **details)
        return 1

    # --- matching new material ----------------------------------------------------------

    def watching(self, after: Callable[[IngestReport], None]) -> Callable[[IngestReport], None]:
        """Wrap an ingest run's ``after`` hook, before the run: what is stored now is
        remembered, and once ``after`` ran, the faces the run stored are matched against the
        active entries."""
        _, watermark = self.gallery.catalog.embedding_watermark(self.gallery.model_id)

        def hook(report: IngestReport) -> None:
            after(report)
            if report.counts["faces"]:
                self.match_new(watermark)

        return hook

    def match_new(self, after_embedding_id: int) -> list[AlertRecord]:
        """Raise an alert for every face stored after ``after_embedding_id`` that matches an
        active entry (each entry alerts once per face); returns the new alerts."""
        self.sweep()
        g = self.gallery
        active = self.store.active_templates(g.model_id, iso(self.clock.now()))
        if not active:
            return []
        batches = (
            (ids, vectors)
            for ids, vectors, _ in g.catalog.iter_embeddings(
                g.model_id, after_id=after_embedding_id
            )
        )
        matches = find_matches(
            active,
            batches,
            floor=self.searcher.threshold()[0],
            scorer=self.searcher.fair_scorer(),
            unblocked=self.searcher.unblocked,
        )
        raised = [a for a in (self._raise(m) for m in matches) if a is not None]
        if raised:
            self.webhook.kick()
        return raised

    def _raise(self, match: Match) -> AlertRecord | None:
        face = self.gallery.catalog.faces([match.face_id]).get(match.face_id)
        case = self.cases.by_id(match.entry.case_id)
        if face is None or case is None:
            return None
        alert_id = self.store.add_alert(
            NewAlert(
                entry_id=match.entry.id,
                case_id=case.id,
                face_id=match.face_id,
                image_id=face.image.id,
                similarity=match.similarity,
                score=match.score,
                threshold=match.threshold,
                raised_at=iso(self.clock.now()),
                delivery=Delivery.PENDING if self.webhook.configured else Delivery.NONE,
            )
        )
        if alert_id is None:
            return None
        details = {
            "alert_id": alert_id,
            "entry_id": match.entry.id,
            "face_id": match.face_id,
            "image_sha256": face.image.sha256,
            "score": round(match.score, 4),
            "threshold": round(match.threshold, 4),
        }
        entry = self._system_record(case, "watchlist_alert", details)
        self.store.set_alert_audit(alert_id, entry.seq)
        return self.store.alert(alert_id)

    def _payload(self, alert_id: int) -> dict[str, object] | None:
        alert = self.store.alert(alert_id)
        return None if alert is None else alert_payload(self.gallery, alert)

    # --- helpers ---------------------------------------------------------------------------

    def _for_reviewer(
        self, user: User, entry_id: int, doing: str
    ) -> tuple[WatchlistEntry, CaseRecord]:
        """The entry and its case, if ``user`` is a reviewer of the case other than the
        entry's requester, and the case is open."""
        entry = self._entry(entry_id)
        case = self._case(user, entry.case_id, CaseAction.READ)
        if not (user.role.allows(Role.SUPERVISOR) and is_reviewer(user, case)):
            raise PermissionDeniedError(
                f"only a supervisor of the case owner's unit or an administrator may {doing} "
                "a watchlist entry"
            )
        if user.username == entry.requested_by:
            raise PermissionDeniedError(
                f"a watchlist entry needs a second person to {doing} it, not its requester"
            )
        if case.status is not CaseStatus.OPEN:
            raise ConflictError(f"case {case.number} is closed: its watchlist has ended")
        return entry, case
