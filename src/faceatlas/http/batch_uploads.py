"""Reading a batch search's uploads: several photos or one zip archive, within the batch's
bounds (``batch_max_probes``, ``batch_max_bytes``) and each photo within ``max_upload_bytes``
(a larger one becomes a failed item, the others go on). The files' names are labels only."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import UploadFile

from faceatlas.config import Settings
from faceatlas.errors import ImageTooLargeError, InvalidRequestError
from faceatlas.http.uploads import read_upload
from faceatlas.services.batch_probes import BatchProbe, check_batch, probes_from_zip

__all__ = ["MAX_NAME_CHARS", "read_batch"]

MAX_NAME_CHARS = 200


def _files(uploads: Sequence[object]) -> list[UploadFile]:
    return [u for u in uploads if isinstance(u, UploadFile) and u.filename]


async def read_batch(
    images: Sequence[object], archive: object, settings: Settings
) -> list[BatchProbe]:
    """The probes posted as photos (``images``) or as one zip archive (``archive``)."""
    photos = _files(images)
    zipped = _files([archive])
    if photos and zipped:
        raise InvalidRequestError("send the probe photos or one zip archive, not both")
    if zipped:
        return probes_from_zip(await read_upload(zipped[0], settings.batch_max_bytes), settings)
    if not photos:
        raise InvalidRequestError(
            "attach the probe photos (multipart field 'images') or a zip archive ('archive')"
        )
    if len(photos) > settings.batch_max_probes:
        raise InvalidRequestError(
            f"a batch takes at most {settings.batch_max_probes} probe photos; split it"
        )
    probes: list[BatchProbe] = []
    total = 0
    for upload in photos:
        name = (upload.filename or "")[:MAX_NAME_CHARS]
        try:
            data = await read_upload(upload, settings.max_upload_bytes)
        except ImageTooLargeError as exc:
            probes.append(BatchProbe(name, refused=exc))
            continue
        total += len(data)
        if total > settings.batch_max_bytes:
            raise ImageTooLargeError(
                f"the batch passes {settings.batch_max_bytes} bytes of photos; split it"
            )
        probes.append(BatchProbe(name, data))
    check_batch(probes, settings)
    return probes
