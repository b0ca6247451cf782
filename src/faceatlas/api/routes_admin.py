"""Audit review, ingestion jobs and health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from faceatlas import __version__
from faceatlas.api.deps import Admin, Investigator, ServiceDep, Supervisor
from faceatlas.api.schemas import (
    AuditEntriesOut,
    AuditEntryOut,
    AuditSummaryOut,
    HealthOut,
    JobCreate,
    JobOut,
    JobsOut,
    VerifyOut,
)
from faceatlas.errors import InvalidRequestError
from faceatlas.types import MAX_ROW_ID, RowId

__all__ = ["router"]

router = APIRouter()


@router.get("/health", response_model=HealthOut, tags=["health"], summary="Liveness and readiness")
def health(service: ServiceDep) -> HealthOut:
    model_id, indexed = service.health()
    return HealthOut(status="ok", version=__version__, model_id=model_id, indexed_faces=indexed)


@router.get(
    "/audit/searches",
    response_model=AuditEntriesOut,
    tags=["audit"],
    summary="Searches, newest first: all (admin), the unit's (supervisor) or one's own",
)
def audit_searches(
    service: ServiceDep,
    user: Investigator,
    actor: Annotated[str | None, Query(max_length=64, description="Only this user's.")] = None,
    case_number: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="Page: entries before this.")
    ] = None,
) -> AuditEntriesOut:
    entries = service.review.searches(
        user, actor=actor, case_number=case_number, limit=limit, before_seq=before_seq
    )
    return AuditEntriesOut(entries=[AuditEntryOut.of(e) for e in entries])


@router.get(
    "/audit/summary",
    response_model=AuditSummaryOut,
    tags=["audit"],
    summary="Search counts by user and by case (the unit's, or all for admins)",
)
def audit_summary(service: ServiceDep, user: Supervisor) -> AuditSummaryOut:
    return AuditSummaryOut.model_validate(service.review.search_summary(user))


@router.get(
    "/audit/entries",
    response_model=AuditEntriesOut,
    tags=["audit"],
    summary="Every audit entry (all actions), newest first",
)
def audit_entries(
    service: ServiceDep,
    _admin: Admin,
    action: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> AuditEntriesOut:
    entries = service.review.entries(action=action, limit=limit, before_seq=before_seq)
    return AuditEntriesOut(entries=[AuditEntryOut.of(e) for e in entries])


@router.get(
    "/audit/verify",
    response_model=VerifyOut,
    tags=["audit"],
    summary="Verify the audit log's hash chain",
)
def audit_verify(service: ServiceDep, _admin: Admin) -> VerifyOut:
    return VerifyOut.of(service.review.verify())


@router.get(
    "/settings",
    response_model=dict[str, Any],
    tags=["settings"],
    summary="Settings in force for search and the service (read-only; no secrets)",
)
def settings_view(service: ServiceDep, _admin: Admin) -> dict[str, Any]:
    return service.settings_view()


@router.get("/jobs", response_model=JobsOut, tags=["ingest"], summary="Ingestion jobs")
def list_jobs(service: ServiceDep, _admin: Admin) -> JobsOut:
    return JobsOut(
        jobs=[JobOut.of(j) for j in service.jobs.list()],
        kinds=service.jobs.kinds,
        folders=sorted(service.settings.ingest_folders),
        targets=service.jobs.targets(),
    )


@router.post(
    "/jobs",
    response_model=JobOut,
    status_code=202,
    tags=["ingest"],
    summary="Start an ingestion job",
    description="`folder` jobs take the *name* of a configured ingest folder; `warc` and `urls` "
    "jobs a `NAME/FILE` from that folder's listing, or (`urls`) the URLs themselves. Never a path.",
)
def start_job(body: JobCreate, service: ServiceDep, admin: Admin) -> JobOut:
    if body.urls is not None:
        if body.kind != "urls":
            raise InvalidRequestError("'urls' goes with kind 'urls'")
        job = service.jobs.submit_urls(body.urls, admin.username)
    else:
        job = service.jobs.submit(body.kind, body.target, admin.username)
    service.record(admin, "ingest_started", job_id=job.id, kind=job.kind, target=job.target)
    return JobOut.of(job)


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["ingest"], summary="A job's progress")
def get_job(job_id: RowId, service: ServiceDep, _admin: Admin) -> JobOut:
    return JobOut.of(service.jobs.get(job_id))
