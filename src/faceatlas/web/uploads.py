"""Adding photos from the web app (administrators): upload image files, a zipped folder, a
URL list or a web archive; each upload becomes an ingest job whose page shows its progress
live and, once it ends, what was added and every item that failed, with its reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from faceatlas.accounts import Credential, Role
from faceatlas.errors import FaceAtlasError
from faceatlas.http.ingest_uploads import read_ingest_form, upload_files, upload_kind
from faceatlas.types import RowId
from faceatlas.web.pages import check_form_csrf, pages_of, service_of, session

__all__ = ["UPLOAD_PATH", "router"]

router = APIRouter()

UPLOAD_PATH = "/ingest/upload"
"""Where uploads are posted: the one path whose request body may reach ``upload_max_bytes``."""
JOBS_SHOWN = 10


def _upload_page(
    request: Request, credential: Credential, error: str | None = None, status: int = 200
) -> Response:
    service = service_of(request)
    st = service.settings
    context: dict[str, Any] = {
        "error": error,
        "empty": service.health()[1] == 0,
        "jobs": service.jobs.list(JOBS_SHOWN),
        "limits": {
            "upload": _size(st.upload_max_bytes),
            "files": st.upload_max_files,
            "file": _size(st.max_file_bytes),
            "entries": st.archive_max_entries,
            "archive": _size(st.archive_max_total_bytes),
        },
    }
    return pages_of(request).render(
        request, "upload.html", context, credential=credential, status=status
    )


def _size(n: int) -> str:
    """A byte count as people read it (``1 GiB``, ``50 MiB``)."""
    value, unit = float(n), "bytes"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.3g} {unit}"


@router.get(UPLOAD_PATH)
def upload_page(request: Request) -> Response:
    return _upload_page(request, session(request, Role.ADMIN))


@router.post(UPLOAD_PATH)
async def upload(request: Request) -> Response:
    credential = session(request, Role.ADMIN)  # before the body is read
    service = service_of(request)
    form = await read_ingest_form(request, service.settings)
    try:
        check_form_csrf(credential, form.get("csrf_token"))
        kind, files = upload_kind(form), upload_files(form)
        job = await run_in_threadpool(service.uploads.start, credential.user, kind, files)
    except FaceAtlasError as exc:
        if exc.http_status in (401, 403):
            raise
        return _upload_page(request, credential, exc.message, exc.http_status)
    finally:
        await form.close()
    return RedirectResponse(f"/ingest/jobs/{job.id}", status_code=303)


@router.get("/ingest/jobs/{job_id}")
def job_page(request: Request, job_id: RowId) -> Response:
    """One job: who started it with what, its live progress, then its summary."""
    credential = session(request, Role.ADMIN)
    job = service_of(request).jobs.get(job_id)
    counts: dict[str, int] = job.report.get("counts", {})
    reasons = {k.removeprefix("failed:"): v for k, v in counts.items() if k.startswith("failed:")}
    return pages_of(request).render(
        request,
        "job.html",
        {"job": job, "counts": counts, "reasons": reasons, "failures": job.report.get("failures")},
        credential=credential,
    )
