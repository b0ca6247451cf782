"""Reading an upload of photos, a URL list or a web archive for an ingest job, from the web
form or the REST API: the multipart body parsed within bounds (the files, at most
``upload_max_files``; a few small fields), the kind of upload, and the files as streams for
:meth:`faceatlas.services.uploads.UploadDesk.start`, which saves them within the byte limits."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from faceatlas.config import Settings
from faceatlas.errors import InvalidRequestError
from faceatlas.services.uploads import IncomingFile, UploadKind

__all__ = ["FIELDS", "FIELD_BYTES", "read_ingest_form", "upload_files", "upload_kind"]

FIELDS = 8
"""Form fields besides the files (the CSRF token and the kind): more are refused."""
FIELD_BYTES = 64 * 1024


async def read_ingest_form(request: Request, settings: Settings) -> FormData:
    """The request's multipart form, refused past ``upload_max_files`` files, :data:`FIELDS`
    fields or :data:`FIELD_BYTES` per field (the body's size is bounded before, by the
    server's body limit). The caller closes it."""
    return await request.form(
        max_files=settings.upload_max_files + 1,
        max_fields=FIELDS,
        max_part_size=FIELD_BYTES,
    )


def upload_kind(form: FormData) -> UploadKind:
    """The ``kind`` field: what the upload holds."""
    try:
        return UploadKind(str(form.get("kind", "")))
    except ValueError:
        raise InvalidRequestError("choose what you upload: photos, urls or warc") from None


def upload_files(form: FormData) -> list[IncomingFile]:
    """The uploaded files (multipart field ``files``), each with the name the client gave."""
    return [
        IncomingFile(f.filename or "", f.file)
        for f in form.getlist("files")
        if isinstance(f, UploadFile) and f.filename
    ]
