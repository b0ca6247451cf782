"""The probes of a batch search, gathered within the batch's bounds before any is searched.

A batch is a folder (every regular, non-hidden file below it, in name order), a zip archive
(every non-hidden member), or several uploads. At most ``batch_max_probes`` probes and
``batch_max_bytes`` bytes (a zip: its members' unpacked sizes, as declared and as read) make
a batch; more is refused as a whole before anything is read or searched. Within those bounds
a probe that cannot be a probe (larger than ``max_upload_bytes``, a corrupt zip member) is
kept as a failed item with its reason, and the batch goes on. Names are labels only: no
name from a zip or an upload ever becomes a path.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import field
from pathlib import Path

from faceatlas.config import Settings
from faceatlas.errors import (
    FaceAtlasError,
    ImageDecodeError,
    ImageTooLargeError,
    InvalidRequestError,
    NotFoundError,
)
from faceatlas.types import record

__all__ = [
    "BatchProbe",
    "check_batch",
    "probes_from_folder",
    "probes_from_path",
    "probes_from_uploads",
    "probes_from_zip",
]


@record
class BatchProbe:
    """One probe of a batch: its name (a label) and bytes, or why it cannot be searched."""

    name: str
    data: bytes = field(default=b"", repr=False)
    refused: FaceAtlasError | None = None


def _too_many(settings: Settings) -> InvalidRequestError:
    return InvalidRequestError(
        f"a batch takes at most {settings.batch_max_probes} probe photos; split it"
    )


def _too_big(settings: Settings, size: int) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"the batch holds {size} bytes of photos; the limit is {settings.batch_max_bytes}"
    )


def _oversized(name: str, size: int, settings: Settings) -> BatchProbe:
    limit = settings.max_upload_bytes
    return BatchProbe(name, refused=ImageTooLargeError(f"{size} bytes; the limit is {limit}"))


def check_batch(probes: Sequence[BatchProbe], settings: Settings) -> None:
    """``invalid_request`` for an empty batch or one of too many probes, ``image_too_large``
    when their bytes pass ``batch_max_bytes``."""
    if not probes:
        raise InvalidRequestError("the batch holds no probe photo")
    if len(probes) > settings.batch_max_probes:
        raise _too_many(settings)
    size = sum(len(p.data) for p in probes)
    if size > settings.batch_max_bytes:
        raise _too_big(settings, size)


def probes_from_uploads(
    uploads: Sequence[tuple[str, bytes]], settings: Settings
) -> list[BatchProbe]:
    """Uploaded photos ``(file name, bytes)``, each already read within ``max_upload_bytes``."""
    probes = [BatchProbe(name or f"upload-{i + 1}", data) for i, (name, data) in enumerate(uploads)]
    check_batch(probes, settings)
    return probes


def probes_from_folder(folder: Path, settings: Settings) -> list[BatchProbe]:
    """Every regular, non-hidden file below ``folder``, sizes checked before reading."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if len(files) > settings.batch_max_probes:
        raise _too_many(settings)
    sizes = {p: p.stat().st_size for p in files}
    readable = [p for p in files if sizes[p] <= settings.max_upload_bytes]
    total = sum(sizes[p] for p in readable)
    if total > settings.batch_max_bytes:
        raise _too_big(settings, total)
    probes = []
    for p in files:
        name = p.relative_to(folder).as_posix()
        if sizes[p] > settings.max_upload_bytes:
            probes.append(_oversized(name, sizes[p], settings))
            continue
        try:
            probes.append(BatchProbe(name, p.read_bytes()))
        except OSError as exc:
            probes.append(BatchProbe(name, refused=ImageDecodeError(f"unreadable: {exc}")))
    check_batch(probes, settings)
    return probes


def probes_from_zip(archive: bytes, settings: Settings) -> list[BatchProbe]:
    """Every non-hidden member of a zip archive, bounded by declared and actual sizes."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidRequestError(f"not a readable zip archive: {exc}") from None
    with zf:
        members = [
            m
            for m in zf.infolist()
            if not m.is_dir()
            and not any(part.startswith((".", "__MACOSX")) for part in m.filename.split("/"))
        ]
        if len(members) > settings.batch_max_probes:
            raise _too_many(settings)
        declared = sum(m.file_size for m in members if m.file_size <= settings.max_upload_bytes)
        if declared > settings.batch_max_bytes:
            raise _too_big(settings, declared)
        probes: list[BatchProbe] = []
        read = 0
        for m in members:  # headers can lie: the bytes actually read count too
            probes.append(_member(zf, m, settings))
            read += len(probes[-1].data)
            if read > settings.batch_max_bytes:
                raise _too_big(settings, read)
    check_batch(probes, settings)
    return probes


def _member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, settings: Settings) -> BatchProbe:
    name = member.filename
    limit = settings.max_upload_bytes
    if member.file_size > limit:
        return _oversized(name, member.file_size, settings)
    try:
        with zf.open(member) as f:
            data = f.read(limit + 1)  # never more than the limit, whatever the header says
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, OSError) as exc:
        return BatchProbe(name, refused=ImageDecodeError(f"corrupt zip member: {exc}"))
    if len(data) > limit:
        return _oversized(name, len(data), settings)
    return BatchProbe(name, data)


def probes_from_path(path: Path, settings: Settings) -> list[BatchProbe]:
    """A folder, or a zip archive file (within ``batch_max_bytes``)."""
    if path.is_dir():
        return probes_from_folder(path, settings)
    if not path.is_file():
        raise NotFoundError(f"no such folder or zip archive: {path}")
    if path.stat().st_size > settings.batch_max_bytes:
        raise _too_big(settings, path.stat().st_size)
    if not zipfile.is_zipfile(path):
        raise InvalidRequestError(f"{path} is neither a folder nor a zip archive")
    return probes_from_zip(path.read_bytes(), settings)
