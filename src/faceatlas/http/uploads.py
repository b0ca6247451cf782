"""Reading uploads: bounded in size, never touching the filesystem by the client's name."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile

from faceatlas.errors import ImageTooLargeError, InvalidRequestError

__all__ = ["read_photos", "read_upload"]

CHUNK = 1 << 20


async def read_upload(upload: object, limit_bytes: int) -> bytes:
    """The upload's bytes, refusing more than ``limit_bytes``.

    Anything but an uploaded file (none, a text field) is ``invalid_request``. The
    client's file name and content type are ignored: the content is sniffed when decoded.
    """
    if not isinstance(upload, UploadFile):
        raise InvalidRequestError("attach a photo as the multipart field 'image'")
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await upload.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit_bytes:
            raise ImageTooLargeError(f"upload exceeds the limit of {limit_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def read_photos(
    form: FormData, field: str, most: int, limit: int, refusal: str
) -> list[bytes]:
    """The photos posted as ``field``, each within ``limit`` bytes; ``refusal`` (an
    ``invalid_request``) unless there are 1 to ``most`` of them."""
    uploads = [u for u in form.getlist(field) if isinstance(u, UploadFile) and u.filename]
    if not 1 <= len(uploads) <= most:
        raise InvalidRequestError(refusal)
    return [await read_upload(u, limit) for u in uploads]
