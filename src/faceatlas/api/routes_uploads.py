"""Uploading photos, a URL list or a web archive as an ingest job (administrators): the REST
side of the web app's upload page, through the same service and the same bounds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from faceatlas.api.deps import Admin, ServiceDep
from faceatlas.api.schemas import JobOut
from faceatlas.http.ingest_uploads import read_ingest_form, upload_files, upload_kind

__all__ = ["API_UPLOAD_PATH", "router"]

router = APIRouter()

API_UPLOAD_PATH = "/jobs/uploads"
"""Below the API prefix: the one REST path whose body may reach ``upload_max_bytes``."""

_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "files"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["photos", "urls", "warc"]},
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    API_UPLOAD_PATH,
    response_model=JobOut,
    status_code=202,
    tags=["ingest"],
    summary="Upload photos, a zipped folder, a URL list or a WARC as an ingest job",
    description="Multipart: `kind` (`photos`, `urls` or `warc`) and the `files`. Photos are "
    "image files and zips of folders (entries checked one by one; bombs, unsafe names and "
    "nested archives refused); `urls` one text file; `warc` one web archive. Bounded by "
    "`upload_max_bytes`, `upload_max_files`, `max_file_bytes` and the archive limits before "
    "any job starts; `202` with the job, whose progress and per-item failures "
    "`GET /api/v1/jobs/{job_id}` reports.",
    openapi_extra=_MULTIPART,
)
async def upload(request: Request, service: ServiceDep, admin: Admin) -> JobOut:
    form = await read_ingest_form(request, service.settings)  # after the role was checked
    try:
        kind, files = upload_kind(form), upload_files(form)
        job = await run_in_threadpool(service.uploads.start, admin, kind, files)
    finally:
        await form.close()
    return JobOut.of(job)
