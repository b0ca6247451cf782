"""Reading uploads: bounded in size, never touching the filesystem by the client's name."""

from __future__ import annotations

from starlette.datastructures import UploadFile

from faceatlas.errors import ImageTooLargeError, InvalidRequestError

__all__ = ["read_upload"]

CHUNK = 1 << 20


async def read_upload(upload: UploadFile | None, limit_bytes: int) -> bytes:
    """The upload's bytes, refusing more than ``limit_bytes``.

    The client's file name and content type are ignored: the content is
    sniffed when decoded.
    """
    if upload is None:
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
