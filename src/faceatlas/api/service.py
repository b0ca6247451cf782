"""What the REST API and the web app share: accountable search over one :class:`Atlas`.

Every search names a case number and an allowed purpose, counts against the
user's rate limit, and appends an audit event (who, when, case, purpose, the
probe's SHA-256, the parameters and the ids of the results shown) before any
result is returned.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from faceatlas.accounts import RateLimiter, Role, User
from faceatlas.accounts.throttle import LoginThrottle
from faceatlas.api.gate import EngineGate
from faceatlas.atlas import Atlas
from faceatlas.audit import AuditEntry, AuditEvent
from faceatlas.errors import (
    AtlasLockedError,
    AuthenticationError,
    CaseRequiredError,
    ImageTooLargeError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from faceatlas.jobs import JobRunner
from faceatlas.privacy import OptOutRequest
from faceatlas.privacy.optout import check_contact
from faceatlas.search import ProbeFace, SearchResult
from faceatlas.store import FaceRecord

__all__ = [
    "LEADS_NOTICE",
    "SearchOutcome",
    "SearchRecord",
    "SearchRequest",
    "Service",
    "similarity_band",
]

log = logging.getLogger(__name__)

R = TypeVar("R")

LEADS_NOTICE = (
    "Results are investigative leads, not identifications. A similar face is not the same "
    "person: verify every lead independently before acting on it."
)
SHOWN_WINDOW = timedelta(hours=24)
OPTOUT_REQUESTS_PER_MINUTE = 10
"""Public opt-out requests per client address per minute."""


def similarity_band(similarity: float, threshold: float) -> tuple[str, str]:
    """A plain-language band for a similarity, relative to the threshold in force.

    Returns ``(band, explanation)``. The band is how far the similarity sits
    between the threshold and 1.0 (identical), so it means the same for a
    strict calibrated threshold and a lax one. Bands never claim identity.
    """
    if similarity < threshold:
        return "below threshold", "below the threshold: unlikely to be the same person"
    headroom = max(1.0 - threshold, 1e-6)
    position = (similarity - threshold) / headroom
    if position >= 0.5:
        return "strong", "much more similar than the threshold requires"
    if position >= 0.25:
        return "moderate", "clearly above the threshold"
    return "weak", "just above the threshold: similar-looking strangers often score here"


PUBLIC_ANALYSES = 1
"""Public opt-out requests analysed at once; more are answered ``rate_limited`` at once."""


@dataclass(frozen=True, slots=True)
class SearchRequest:
    case_number: str
    purpose: str
    face: int | None = None
    top_k: int | None = None
    threshold: float | None = None
    interface: str = "api"


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """What a search's audit event records besides who, case and purpose: its
    parameters, the ids of the faces shown, and kind-specific fields (``extra``)."""

    parameters: dict[str, Any]
    result_face_ids: list[int]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    result: SearchResult
    audit: AuditEntry
    probe_sha256: str

    def as_dict(self) -> dict[str, Any]:
        data = self.result.as_dict()
        for hit, h in zip(data["hits"], self.result.hits, strict=True):
            band, text = similarity_band(h.decision_score, self.result.threshold)
            hit["band"] = band
            hit["band_text"] = text
        return {
            "search_id": self.audit.seq,
            "case_number": self.audit.case_number,
            "purpose": self.audit.purpose,
            "notice": LEADS_NOTICE,
            "probe_sha256": self.probe_sha256,
            **data,
        }


class Service:
    """The serving process's state: atlas, locks, rate limiter, job runner."""

    def __init__(self, atlas: Atlas) -> None:
        self.atlas = atlas
        self.settings = atlas.settings
        self.limiter = RateLimiter(self.settings.search_rate_per_minute, 60.0)
        self.optout_limiter = RateLimiter(OPTOUT_REQUESTS_PER_MINUTE, 60.0, what="opt-out request")
        self.throttle = LoginThrottle()
        self._case_re = re.compile(self.settings.case_number_pattern)
        self.gate = EngineGate(concurrent=atlas.engine.thread_safe)
        self.jobs = JobRunner(atlas, on_finished=self.catch_up_index)
        self._shown: dict[str, dict[int, float]] = {}
        self._shown_identities: dict[str, dict[int, float]] = {}
        self._shown_lock = threading.Lock()
        self._public_analyses = threading.BoundedSemaphore(PUBLIC_ANALYSES)

    def start(self) -> None:
        self.atlas.engine.load()  # before requests arrive, so no two of them load it
        self.jobs.start()

    def stop(self) -> None:
        self.jobs.stop()

    def authenticate(self, username: str, password: str, client: str) -> User:
        """Check a password; wrong ones slow down that account from that address only
        (:class:`faceatlas.accounts.throttle.LoginThrottle`)."""
        self.throttle.check(username, client)
        try:
            user = self.atlas.accounts.authenticate(username, password)
        except AuthenticationError:
            self.throttle.failed(username, client)
            raise
        self.throttle.succeeded(username, client)
        return user

    def unlock(self, admin: User, user_id: int) -> int:
        """Clear the wrong-password waits of an account; returns the addresses freed."""
        target = self.atlas.accounts.get(user_id)
        freed = self.throttle.unlock(target.username)
        self.record(admin, "account_unlocked", user=target.username, addresses=freed)
        return freed

    def refresh(self) -> None:
        """Before serving: pick up what another process (a CLI ingest or erasure) changed in
        the catalog since this one last synced its index."""
        if not self.atlas.gallery.catalog_changed():
            return
        try:
            with self.atlas.gallery.writer_lock(), self.gate.exclusive():
                state = self.atlas.gallery.sync_index()
            log.info("index synced with changes from another process: %s", state)
        except AtlasLockedError:
            log.info("index sync deferred: another writer holds the atlas")

    def catch_up_index(self) -> None:
        """Bring the serving index in line with the catalog after an ingest job."""
        try:
            with self.atlas.gallery.writer_lock(), self.gate.exclusive():
                state = self.atlas.gallery.sync_index()
            log.info("index sync after job: %s", state)
        except AtlasLockedError:
            log.info("index sync deferred: another writer holds the atlas")

    # --- privacy ------------------------------------------------------------------------

    def admit_optout(self, client: str) -> None:
        """Count a public opt-out request against its address's limit, before its body is
        read: a refused request costs nothing but this."""
        self.optout_limiter.hit(f"optout:{client}")
        if not self._public_analyses.acquire(blocking=False):
            raise _busy()
        self._public_analyses.release()

    def optout_request(self, selfies: Sequence[bytes], contact: str) -> OptOutRequest:
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
            return self.atlas.privacy.optout_record(templates, contact, channel="web")

    # --- probe analysis --------------------------------------------------------------------

    def check_upload(self, data: bytes) -> None:
        if len(data) > self.settings.max_upload_bytes:
            raise ImageTooLargeError(
                f"upload is {len(data)} bytes, limit is {self.settings.max_upload_bytes}"
            )

    def detect(self, data: bytes) -> list[ProbeFace]:
        self.check_upload(data)
        with self.gate.shared():
            return self.atlas.detect(data)

    def check_case(self, case_number: str | None, purpose: str | None) -> tuple[str, str]:
        case = (case_number or "").strip()
        why = (purpose or "").strip()
        if not case:
            raise CaseRequiredError("every search needs a case number")
        if not self._case_re.fullmatch(case):
            raise CaseRequiredError(
                "the case number has an invalid format (letters, digits, '.', '_', '/', '-'; "
                "3-64 characters)"
            )
        if why not in self.settings.search_purposes:
            raise CaseRequiredError(
                "every search needs a purpose from the list: "
                + "; ".join(self.settings.search_purposes)
            )
        return case, why

    def search(self, user: User, data: bytes, request: SearchRequest) -> SearchOutcome:
        """An accountable search: checked, rate-limited, audited, then returned."""

        def run() -> tuple[SearchResult, SearchRecord]:
            result = self.atlas.search(
                data, face=request.face, top_k=request.top_k, min_similarity=request.threshold
            )
            parameters = {
                "face": result.selected,
                "faces_in_probe": len(result.probe_faces),
                "top_k": request.top_k or self.settings.top_k,
                "threshold": round(result.threshold, 4),
                "threshold_source": result.threshold_source,
                "model_id": result.model_id,
            }
            return result, SearchRecord(parameters, [h.face_id for h in result.hits])

        result, entry, hashes = self.accountable_search(user, request, [data], run)
        return SearchOutcome(result, entry, hashes[0])

    def accountable_search(
        self,
        user: User,
        request: SearchRequest,
        probes: Sequence[bytes],
        run: Callable[[], tuple[R, SearchRecord]],
    ) -> tuple[R, AuditEntry, list[str]]:
        """The one path of every search (by face, by identity): case number and purpose
        checked, uploads bounded, the user's rate limit counted, ``run`` called with shared
        entry to the engine gate, then one ``search`` audit event appended before anything is returned.

        Returns ``run``'s result, the audit entry and the probes' SHA-256 digests.
        """
        case, purpose = self.check_case(request.case_number, request.purpose)
        if not probes:
            raise InvalidRequestError("attach at least one probe photo")
        for data in probes:
            self.check_upload(data)
        self.limiter.hit(user.username)
        self.refresh()
        started = time.perf_counter()
        with self.gate.shared():
            result, record = run()
        hashes = [hashlib.sha256(data).hexdigest() for data in probes]
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
                actor_role=user.role.value,
                actor_unit=user.unit,
                action="search",
                case_number=case,
                purpose=purpose,
                details=details,
            )
        )
        now = time.time()
        with self._shown_lock:
            seen = self._shown.setdefault(user.username, {})
            for face_id in record.result_face_ids:
                seen[face_id] = now
            granted = self._shown_identities.setdefault(user.username, {})
            for identity_id in record.extra.get("result_identity_ids", []):
                granted[int(identity_id)] = now
        return result, entry, hashes

    # --- result details ----------------------------------------------------------------------

    def ensure_may_view(self, user: User, face_id: int) -> None:
        """Investigators see only faces shown to them by their own audited searches (24 h).

        Supervisors and admins review results, so they may open any face.
        """
        if user.role.allows(Role.SUPERVISOR):
            return
        cutoff = time.time() - SHOWN_WINDOW.total_seconds()
        with self._shown_lock:
            when = self._shown.get(user.username, {}).get(face_id)
        if when is not None and when >= cutoff:
            return
        since = (datetime.now(UTC) - SHOWN_WINDOW).isoformat(timespec="milliseconds")
        for entry in self.atlas.audit.entries(action="search", actor=user.username, limit=500):
            if entry.at < since:
                break
            if face_id in entry.details.get("result_face_ids", []):
                with self._shown_lock:
                    self._shown.setdefault(user.username, {})[face_id] = time.time()
                return
        identity_id = self.atlas.identities.identity_of(face_id)
        if identity_id is not None and self.may_view_identity(user, identity_id):
            return
        raise PermissionDeniedError(
            "this face was not among the results of one of your searches in the last 24 hours"
        )

    def grant_identities(self, user: User, identity_ids: Sequence[int]) -> None:
        """Let ``user`` open identities their own curation just created (audited as well)."""
        now = time.time()
        with self._shown_lock:
            granted = self._shown_identities.setdefault(user.username, {})
            for identity_id in identity_ids:
                granted[identity_id] = now

    def may_view_identity(self, user: User, identity_id: int) -> bool:
        """Supervisors and admins open any identity; investigators those their own audited
        searches showed them, or their own curation touched, in the last 24 hours."""
        viewable = self.viewable_identities(user)
        return viewable is None or identity_id in viewable

    def viewable_identities(self, user: User) -> set[int] | None:
        """Identity ids ``user`` may open (``None``: every one)."""
        if user.role.allows(Role.SUPERVISOR):
            return None
        since = (datetime.now(UTC) - SHOWN_WINDOW).isoformat(timespec="milliseconds")
        found: set[int] = set()
        for entry in self.atlas.audit.entries(actor=user.username, limit=500):
            if entry.at < since:
                break
            found.update(entry.details.get("result_identity_ids", []))
            found.update(entry.details.get("identity_ids", []))
        cutoff = time.time() - SHOWN_WINDOW.total_seconds()
        with self._shown_lock:
            granted = self._shown_identities.get(user.username, {})
            found.update(i for i, when in granted.items() if when >= cutoff)
        return found

    def face(self, user: User, face_id: int) -> FaceRecord:
        self.ensure_may_view(user, face_id)
        return self.atlas.gallery.face(face_id)

    def thumbnail(self, user: User, face_id: int) -> bytes:
        self.ensure_may_view(user, face_id)
        return self.atlas.gallery.thumbnail(face_id)

    # --- audit review -------------------------------------------------------------------------

    def review_scope(self, user: User) -> tuple[list[str] | None, str | None]:
        """``(units, actor)`` a user may review: admins all, supervisors their unit,
        investigators only their own searches."""
        if user.role is Role.ADMIN:
            return None, None
        if user.role is Role.SUPERVISOR:
            return [user.unit], None
        return None, user.username

    def searches(
        self,
        user: User,
        *,
        actor: str | None = None,
        case_number: str | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[AuditEntry]:
        units, own = self.review_scope(user)
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
        units, own = self.review_scope(user)
        if own is not None:
            raise PermissionDeniedError("only supervisors and admins see search summaries")
        return self.atlas.audit.summary(units=units)

    def settings_view(self) -> dict[str, Any]:
        """The settings that govern searching and the service, for admins (no secrets, no paths).

        Settings change in the configuration file or environment, then a restart.
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
        }

    def record(self, actor: User, event: str, /, **details: Any) -> AuditEntry:
        """Audit an administrative action (user management, tokens, jobs)."""
        return self.atlas.audit.append(
            AuditEvent(
                actor=actor.username,
                actor_role=actor.role.value,
                actor_unit=actor.unit,
                action=event,
                details=details,
            )
        )

    def user_for_review(self, reviewer: User, username: str) -> User:
        target = self.atlas.accounts.by_name(username)
        units, own = self.review_scope(reviewer)
        if own is not None and target.username != own:
            raise NotFoundError(f"user {username!r} does not exist")
        if units is not None and target.unit not in units:
            raise NotFoundError(f"user {username!r} does not exist")
        return target


def _busy() -> RateLimitedError:
    return RateLimitedError(
        "the opt-out service is busy with other requests; please try again in a minute",
        retry_after_s=60,
    )
