"""The use cases every front end shares, over one :class:`Atlas`: accountable search, who
may open a result, audit review, accounts, the public opt-out and the settings view.

Every search names a case number and an allowed purpose, counts against the user's rate
limit, and appends an audit event (who, when, case, purpose, the probe's SHA-256, the
parameters and the ids of the results shown) before any result is returned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from faceatlas.accounts import RateLimiter, User
from faceatlas.atlas import Atlas
from faceatlas.audit import AuditEntry, AuditEvent
from faceatlas.errors import AtlasLockedError, InvalidRequestError, RateLimitedError
from faceatlas.jobs import JobRunner
from faceatlas.jobs.batches import BatchRunner
from faceatlas.privacy import OptOutRequest
from faceatlas.privacy.optout import check_contact
from faceatlas.search import ProbeFace, SearchResult
from faceatlas.services.access import ViewLedger
from faceatlas.services.accounts import AccountDesk, audit_role
from faceatlas.services.cases import CaseService
from faceatlas.services.collection import Collection
from faceatlas.services.gate import EngineGate
from faceatlas.services.metrics import ServiceMetrics
from faceatlas.services.review import AuditReview
from faceatlas.services.search import (
    CaseRule,
    SearchOutcome,
    SearchRecord,
    SearchRequest,
    check_upload,
    probe_digests,
    resolve_top_k,
    search_parameters,
)
from faceatlas.services.uploads import UploadDesk
from faceatlas.store import FaceRecord
from faceatlas.timing import StageTimer

__all__ = ["OPTOUT_REQUESTS_PER_MINUTE", "PUBLIC_ANALYSES", "Service"]

log = logging.getLogger(__name__)

R = TypeVar("R")

OPTOUT_REQUESTS_PER_MINUTE = 10
"""Public opt-out requests per client address per minute."""
PUBLIC_ANALYSES = 1
"""Public opt-out requests analysed at once; more are answered ``rate_limited`` at once."""


class Service:
    """The serving process's state (atlas, engine gate, rate limiters, job runner, what
    each user was shown) and the use cases over it."""

    def __init__(self, atlas: Atlas) -> None:
        self.atlas = atlas
        self.settings = atlas.settings
        self.cases = CaseRule(self.settings)
        self.limiter = RateLimiter(self.settings.search_rate_per_minute, 60.0)
        self.optout_limiter = RateLimiter(OPTOUT_REQUESTS_PER_MINUTE, 60.0, what="opt-out request")
        self.gate = EngineGate(concurrent=atlas.engine.thread_safe)
        self.jobs = JobRunner(atlas, on_finished=self.catch_up_index)
        self.metrics = ServiceMetrics(atlas, self.jobs.rows)
        self.batches = BatchRunner(atlas.catalog.db)
        self.uploads = UploadDesk(self.settings, self.jobs, self.record)
        self.ledger = ViewLedger(atlas)
        self.review = AuditReview(atlas)
        self.accounts = AccountDesk(atlas, self.record, on_login_failure=self.metrics.login_failed)
        self.collection = Collection(atlas, self.gate)
        self.casework = CaseService(atlas, self.gate)
        self._public_analyses = threading.BoundedSemaphore(PUBLIC_ANALYSES)

    def start(self) -> None:
        self.atlas.engine.load()  # before requests arrive, so no two of them load it
        self.jobs.start()
        self.batches.start()

    def stop(self) -> None:
        self.jobs.stop()
        self.batches.stop()

    def refresh(self) -> None:
        """Before serving: pick up what another process (a CLI ingest or erasure) changed in
        the catalog since this one last synced its index."""
        if self.atlas.gallery.catalog_changed():
            self._sync_index("index synced with changes from another process: %s")

    def catch_up_index(self) -> None:
        """Bring the serving index in line with the catalog after an ingest job."""
        self._sync_index("index sync after job: %s")

    def _sync_index(self, message: str) -> None:
        try:
            with self.atlas.gallery.writer_lock(), self.gate.exclusive():
                state = self.atlas.gallery.sync_index()
            log.info(message, state)
        except AtlasLockedError:
            log.info("index sync deferred: another writer holds the atlas")

    # --- audit ---------------------------------------------------------------------------

    def record(self, actor: User, event: str, /, **details: Any) -> AuditEntry:
        """Audit an administrative action (user management, tokens, jobs)."""
        return self.atlas.audit.append(
            AuditEvent(
                actor=actor.username,
                actor_role=audit_role(actor),
                actor_unit=actor.unit,
                action=event,
                details=details,
            )
        )

    # --- public opt-out ------------------------------------------------------------------

    def admit_optout(self, client: str) -> None:
        """Count a public opt-out request against its address's limit, before its body is
        read: a refused request costs nothing but this."""
        self.optout_limiter.hit(f"optout:{client}")
        if not self._public_analyses.acquire(blocking=False):
            raise _busy()
        self._public_analyses.release()

    def optout_request(
        self, selfies: Sequence[bytes], contact: str, *, channel: str = "web"
    ) -> OptOutRequest:
        """A public opt-out request (no account), admitted by :meth:`admit_optout`.

        The public form must never hold up searches: selfies are bounded in pixels before
        decoding, analysed with shared entry to the engine (beside searches, never ahead of
        them), and at most :data:`PUBLIC_ANALYSES` requests are analysed at once, the rest
        answered ``rate_limited`` at once rather than queued. Only storing the request (and,
        with auto-approval on, erasing) takes the gate exclusively."""
        check_contact(contact)
        if not self._public_analyses.acquire(blocking=False):
            raise _busy()
        try:
            with self.gate.shared():
                templates = self.atlas.privacy.optout_templates(selfies)
        finally:
            self._public_analyses.release()
        with self.gate.exclusive():
            return self.atlas.privacy.optout_record(templates, contact, channel=channel)

    # --- search --------------------------------------------------------------------------

    def check_upload(self, data: bytes) -> None:
        check_upload(self.settings, data)

    def check_case(self, case_number: str | None, purpose: str | None) -> tuple[str, str]:
        """``(case, purpose)``, stripped; ``case_required`` unless both are valid."""
        return self.cases.check(case_number, purpose)

    def detect(self, data: bytes) -> list[ProbeFace]:
        """The faces in a photo, so a user can pick one; searches nothing."""
        self.check_upload(data)
        with self.gate.shared():
            return self.atlas.detect(data)

    def search(
        self,
        user: User,
        data: bytes,
        request: SearchRequest,
        *,
        extra: dict[str, Any] | None = None,
        counted: bool = True,
    ) -> SearchOutcome:
        """An accountable search: checked, rate-limited, audited, then returned; it belongs
        to a case (admitted or opened before the search, recorded into it after). ``extra``
        goes into its audit entry; ``counted`` False is for the searches of a batch or group
        request, which counted once against the rate limit."""
        case, _ = self.check_case(request.case_number, request.purpose)
        timer = StageTimer()

        def run() -> tuple[SearchResult, SearchRecord]:
            top_k = resolve_top_k(self.settings, request.top_k)
            try:
                result = self.atlas.search(
                    data,
                    face=request.face,
                    top_k=top_k,
                    min_similarity=request.threshold,
                    timer=timer,
                )
            finally:
                self.metrics.observe_stages(timer)
            parameters = search_parameters(result, top_k)
            return result, SearchRecord(parameters, [h.face_id for h in result.hits], extra or {})

        result, entry, hashes = self.accountable_search(user, request, [data], run, counted=counted)
        self.casework.record_search(user, case, entry, data, result)
        return SearchOutcome(result, entry, hashes[0])

    def accountable_search(
        self,
        user: User,
        request: SearchRequest,
        probes: Sequence[bytes],
        run: Callable[[], tuple[R, SearchRecord]],
        *,
        counted: bool = True,
    ) -> tuple[R, AuditEntry, list[str]]:
        """The one path of every search (by face, by identity): case number and purpose
        checked, uploads bounded, the user's rate limit counted, the search admitted into its
        case (opened for the searcher when no case has that number), ``run`` called with shared
        entry to the engine gate, then one ``search`` audit event appended before anything
        is returned.

        Returns ``run``'s result, the audit entry and the probes' SHA-256 digests.
        """
        case, purpose = self.check_case(request.case_number, request.purpose)
        if not probes:
            raise InvalidRequestError("attach at least one probe photo")
        for data in probes:
            self.check_upload(data)
        if counted:
            self.limiter.hit(user.username)
        self.casework.admit_search(user, case, purpose)
        self.refresh()
        started = time.perf_counter()
        with self.gate.shared():
            result, record = run()
        hashes = probe_digests(probes)
        details: dict[str, Any] = {
            "probe_sha256": hashes[0],
            "interface": request.interface,
            "parameters": record.parameters,
            "result_face_ids": record.result_face_ids,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if len(hashes) > 1:
            details["probe_sha256s"] = hashes
        details.update(record.extra)
        entry = self.atlas.audit.append(
            AuditEvent(
                actor=user.username,
                actor_role=audit_role(user),
                actor_unit=user.unit,
                action="search",
                case_number=case,
                purpose=purpose,
                details=details,
            )
        )
        self.ledger.shown(user, record.result_face_ids, record.extra.get("result_identity_ids", []))
        self.metrics.observe_search(time.perf_counter() - started)
        return result, entry, hashes

    # --- result details ------------------------------------------------------------------

    def face(self, user: User, face_id: int) -> FaceRecord:
        """A result's details; investigators open only faces their own searches showed them
        in the last 24 hours (:class:`ViewLedger`)."""
        self.ledger.ensure_may_view(user, face_id)
        return self.atlas.gallery.face(face_id)

    def thumbnail(self, user: User, face_id: int) -> bytes:
        self.ledger.ensure_may_view(user, face_id)
        return self.atlas.gallery.thumbnail(face_id)

    # --- health and settings -------------------------------------------------------------

    def holdings(self) -> dict[str, int]:
        """How much the atlas holds: the catalog's counts (sources, images, sightings, faces,
        embeddings, failures) and ``indexed_faces``, the faces a search looks through."""
        return {**self.atlas.catalog.counts(), "indexed_faces": len(self.atlas.index)}

    def health(self) -> tuple[str, int]:
        """``(model_id, indexed_faces)``: what a liveness probe reports."""
        return self.atlas.model_id, len(self.atlas.index)

    def settings_view(self) -> dict[str, Any]:
        """The settings that govern searching and the service, for admins (no secrets, no
        paths). Settings change in the configuration file or environment, then a restart.
        """
        st = self.settings
        threshold, source = self.atlas.threshold()
        return {
            "model_id": self.atlas.model_id,
            "threshold": {"value": round(threshold, 4), "source": source},
            "top_k": st.top_k,
            "search_purposes": list(st.search_purposes),
            "case_number_pattern": st.case_number_pattern,
            "search_rate_per_minute": st.search_rate_per_minute,
            "max_upload_bytes": st.max_upload_bytes,
            "max_pixels": st.max_pixels,
            "session_ttl_s": st.session_ttl_s,
            "token_ttl_s": st.token_ttl_s,
            "cookie_secure": st.cookie_secure,
            "ingest_folders": sorted(st.ingest_folders),
            "job_kinds": self.jobs.kinds,
            "batch_max_probes": st.batch_max_probes,
            "batch_max_bytes": st.batch_max_bytes,
            "group_max_faces": st.group_max_faces,
            "watchlist_max_days": st.watchlist_max_days,
            "watchlist_webhook": bool(st.watchlist_webhook_url),
        }


def _busy() -> RateLimitedError:
    return RateLimitedError(
        "the opt-out service is busy with other requests; please try again in a minute",
        retry_after_s=60,
    )
