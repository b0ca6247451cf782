"""Batch search: many probe photos searched under one case, each with the accountability of a
single search, and one combined report.

Every probe goes through the one search path (:meth:`Service.search`): case and purpose
checked, the search admitted into its case, run, written to the audit log as its own
``search`` entry (one per searched probe, with ``details.batch`` naming the batch and the
item) and recorded into the case, so the case's report (:mod:`faceatlas.cases.report`) holds
every probe and candidate. A probe that fails (unreadable, no face, refused by the probe
quality gate, too large) becomes a failed item with its error code and the batch goes on; a
refusal of the case itself (closed, not a member) stops the batch, the rest failing with it.
One ``search_batch`` entry closes the batch: every item's name, SHA-256 and outcome.

Bounds come first: ``batch_max_probes`` and ``batch_max_bytes``
(:mod:`faceatlas.services.batch_probes`). A batch counts once against the user's search
rate limit. On the web and REST a batch runs as a background job
(:mod:`faceatlas.jobs.batches`); the command line runs it in place, showing progress.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from faceatlas.accounts import User
from faceatlas.audit import AuditEvent
from faceatlas.errors import (
    CaseRequiredError,
    ConflictError,
    FaceAtlasError,
    NotFoundError,
    PermissionDeniedError,
)
from faceatlas.jobs.batches import Progress
from faceatlas.services.accounts import audit_role
from faceatlas.services.batch_probes import BatchProbe, check_batch
from faceatlas.services.batch_report import (
    BatchItem,
    BatchReport,
    item_of,
    report_csv,
    stored_form,
    with_places,
)
from faceatlas.services.search import SearchRequest
from faceatlas.services.service import Service
from faceatlas.store.batches import BatchRecord

__all__ = ["BatchDesk"]

STOPPERS = (CaseRequiredError, PermissionDeniedError, ConflictError)
"""Refusals of the case itself: the batch stops at the first one."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class BatchDesk:
    """Batch searches on behalf of a user, over the service's one search path."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def run(
        self,
        user: User,
        probes: Sequence[BatchProbe],
        request: SearchRequest,
        progress: Progress | None = None,
        *,
        counted: bool = True,
    ) -> BatchReport:
        """Search every probe now, in order; the combined report. ``counted`` False: the
        batch already counted against the rate limit when it was queued."""
        service = self.service
        case, purpose = service.check_case(request.case_number, request.purpose)
        check_batch(probes, service.settings)
        if counted:
            service.limiter.hit(user.username)
        ref = uuid.uuid4().hex[:16]
        started = _now()
        items: list[BatchItem] = []
        stop: FaceAtlasError | None = None
        for index, probe in enumerate(probes):
            item, refusal = self._one(user, index, probe, request, ref, stop)
            items.append(item)
            stop = stop or refusal
            if progress is not None:
                progress(len(items), sum(1 for i in items if i.status != "searched"))
        found = service.casework.desk.store.by_number(case)
        searched = sum(1 for i in items if i.status == "searched")
        report = BatchReport(
            ref=ref,
            case_number=case,
            case_id=None if found is None else found.id,
            purpose=purpose,
            searched_by=user.username,
            started_at=started,
            finished_at=_now(),
            total=len(items),
            searched=searched,
            failed=len(items) - searched,
            items=tuple(items),
        )
        self._record_batch(user, report, request)
        return report

    def _one(
        self,
        user: User,
        index: int,
        probe: BatchProbe,
        request: SearchRequest,
        ref: str,
        stop: FaceAtlasError | None,
    ) -> tuple[BatchItem, FaceAtlasError | None]:
        """The probe's item, and the refusal of the case that stops the batch, if any."""
        sha = hashlib.sha256(probe.data).hexdigest() if probe.refused is None else None
        failed = BatchItem(index, probe.name, sha, "failed")
        refusal = stop or probe.refused
        if refusal is not None:
            return replace(failed, error_code=refusal.code, error=refusal.message), None
        extra = {"batch": {"ref": ref, "item": index, "name": probe.name}}
        try:
            outcome = self.service.search(
                user, probe.data, replace(request, face=None), extra=extra, counted=False
            )
        except STOPPERS as exc:
            return replace(failed, error_code=exc.code, error=exc.message), exc
        except FaceAtlasError as exc:
            return replace(failed, error_code=exc.code, error=exc.message), None
        result = outcome.result
        return item_of(index, probe.name, outcome.probe_sha256, outcome.audit.seq, result), None

    def _record_batch(self, user: User, report: BatchReport, request: SearchRequest) -> None:
        """The ``search_batch`` entry that closes the batch in the audit log."""
        self.service.atlas.audit.append(
            AuditEvent(
                actor=user.username,
                actor_role=audit_role(user),
                actor_unit=user.unit,
                action="search_batch",
                case_number=report.case_number,
                purpose=report.purpose,
                details={
                    "batch": report.ref,
                    "interface": request.interface,
                    "total": len(report.items),
                    "searched": report.searched,
                    "failed": report.failed,
                    "items": [
                        {
                            "name": i.name,
                            "sha256": i.sha256,
                            "search_id": i.search_id,
                            "error_code": i.error_code,
                        }
                        for i in report.items
                    ],
                },
            )
        )

    # --- as a background job ---------------------------------------------------------------

    def submit(
        self, user: User, probes: Sequence[BatchProbe], request: SearchRequest
    ) -> BatchRecord:
        """Queue the batch (checked and counted now, searched by the job runner)."""
        service = self.service
        case, purpose = service.check_case(request.case_number, request.purpose)
        check_batch(probes, service.settings)
        service.casework.admit_search(user, case, purpose)
        service.limiter.hit(user.username)
        held = list(probes)

        def work(progress: Progress) -> dict[str, Any]:
            return stored_form(self.run(user, held, request, progress, counted=False))

        return service.batches.submit(case, purpose, user.username, len(held), work)

    def get(self, user: User, batch_id: int) -> BatchRecord:
        """A batch's progress: only the user who submitted it sees it (``not_found`` else)."""
        batch = self.service.batches.get(batch_id)
        if batch.created_by != user.username:
            raise NotFoundError(f"batch {batch_id} does not exist")
        return batch

    def mine(self, user: User, limit: int = 20) -> list[BatchRecord]:
        return self.service.batches.newest(user.username, limit)

    def report(self, user: User, batch_id: int) -> dict[str, Any]:
        """The finished batch's combined report (``conflict`` while it runs), each
        candidate with where its face is found now (an erased face has left the report)."""
        batch = self.get(user, batch_id)
        report = self.service.batches.report(batch_id)
        if report is None:
            raise ConflictError(f"batch {batch_id} is {batch.status}: no report yet")
        ids = [h["face_id"] for item in report["items"] for h in item["hits"]]
        return with_places(report, self.service.atlas.gallery.faces(ids))

    def report_csv(self, user: User, batch_id: int) -> str:
        return report_csv(self.report(user, batch_id))

    def case_report_html(self, user: User, batch_id: int) -> bytes:
        """The HTML report of the batch's case (every search of the case, this batch's too)."""
        return self.service.casework.report_html(user, self.get(user, batch_id).case_number)
