"""Photos and videos an administrator uploaded: image and video files and zipped folders,
saved by the server.

Every uploaded file is one item, except a zip, whose entries are the items. Entries are
read straight out of the archive into memory, never extracted, so no entry's name is ever
used as a path. Before any entry is read the archive is held to the limits (entries, bytes
once uncompressed); each entry is then held to ``max_file_bytes`` and refused, as a
per-item failure, when its name is unsafe (``unsafe_name``), when it is itself an archive
(``nested_archive``) or when it is neither an image nor a video file (``not_an_image``,
by name: the suffixes a folder walk picks up). A video entry is analysed as a folder's video
is, under the same video budget (``FACEATLAS_VIDEO_*``); one named as a video must hold one
(``not_a_video``). Folders and macOS ``__MACOSX/`` metadata are not items.

Sightings keep the uploaded file's name, or the zip's name and the entry's path
(``people.zip/obama/obama1.jpg``): where the photo came from after the upload is gone.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from faceatlas.errors import (
    ArchiveError,
    ArchiveTooLargeError,
    FaceAtlasError,
    ImageTooLargeError,
    InvalidRequestError,
    NestedArchiveError,
    NotAnImageError,
    UnsafeNameError,
)
from faceatlas.ingest.folder import MEDIA_SUFFIXES, read_file
from faceatlas.ingest.source import SourceItem
from faceatlas.types import Closing, record

__all__ = [
    "UPLOAD_KIND",
    "ArchiveLimits",
    "UploadSource",
    "UploadedFile",
    "check_archive",
    "is_zip",
    "upload_job_of",
    "upload_locator",
]

UPLOAD_KIND = "upload"
"""The source kind of uploaded photos; the source's locator names the job (``upload:12``)."""
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".jar")
ARCHIVE_MAGIC = (
    b"PK\x03\x04",  # zip
    b"PK\x05\x06",  # empty zip
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"7z\xbc\xaf\x27\x1c",  # 7-Zip
    b"Rar!\x1a\x07",  # RAR
)
SKIPPED_FOLDERS = ("__MACOSX/",)
MAX_LOCATOR_CHARS = 1000


def upload_locator(job_id: int) -> str:
    """The locator of the source an upload job's photos are sighted in."""
    return f"{UPLOAD_KIND}:{job_id}"


def upload_job_of(kind: str, locator: str) -> int | None:
    """The upload job a source (``kind``, ``locator``) stands for, if it is one."""
    prefix = f"{UPLOAD_KIND}:"
    if kind != UPLOAD_KIND or not locator.startswith(prefix):
        return None
    number = locator[len(prefix) :]
    return int(number) if number.isdigit() else None


@record
class UploadedFile:
    """A file the server saved (``path``, a name it chose) under the name it was uploaded as
    (``name``: the client's file name without any folder, kept only as provenance)."""

    path: Path
    name: str


@record
class ArchiveLimits:
    max_entries: int
    max_total_bytes: int
    """All entries together, once uncompressed, as the archive declares them."""
    max_entry_bytes: int


def is_zip(path: Path) -> bool:
    """Whether the file is a zip archive, by its content (never its name)."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head in (b"PK\x03\x04", b"PK\x05\x06")


def _open_zip(path: Path, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(f"{name} is not a readable zip archive: {exc}") from None


def _entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith(SKIPPED_FOLDERS)
    ]


def check_archive(path: Path, name: str, limits: ArchiveLimits) -> int:
    """The number of entries of the zip at ``path`` (uploaded as ``name``), once its
    directory is checked against ``limits``; :class:`ArchiveError` or
    :class:`ArchiveTooLargeError` otherwise. Reads the directory only."""
    with _open_zip(path, name) as archive:
        entries = _entries(archive)
    _check_entries(entries, name, limits)
    return len(entries)


def _check_entries(entries: Sequence[zipfile.ZipInfo], name: str, limits: ArchiveLimits) -> None:
    if len(entries) > limits.max_entries:
        raise ArchiveTooLargeError(
            f"{name} holds {len(entries)} entries; at most {limits.max_entries} are accepted"
        )
    total = sum(info.file_size for info in entries)
    if total > limits.max_total_bytes:
        raise ArchiveTooLargeError(
            f"{name} holds {total} bytes once uncompressed; at most {limits.max_total_bytes} "
            "are accepted"
        )


def _unsafe(member: str) -> bool:
    path = PurePosixPath(member.replace("\\", "/"))
    return (
        member.startswith(("/", "\\"))
        or (len(member) > 1 and member[1] == ":")
        or ".." in path.parts
        or any(ord(c) < 32 for c in member)
    )


class _Archive:
    """One open zip, read by the ingest's fetch threads one entry at a time."""

    def __init__(self, upload: UploadedFile, limits: ArchiveLimits) -> None:
        self.upload = upload
        self.limits = limits
        self.zip = _open_zip(upload.path, upload.name)
        self.lock = threading.Lock()
        self.entries = {info.filename: info for info in _entries(self.zip)}
        _check_entries(list(self.entries.values()), upload.name, limits)

    def read(self, member: str) -> bytes:
        info = self.entries[member]
        if _unsafe(member):
            raise UnsafeNameError(f"entry name {member!r} leaves its folder or is absolute")
        if member.lower().endswith(ARCHIVE_SUFFIXES):
            raise NestedArchiveError(f"{member} is an archive inside {self.upload.name}")
        if PurePosixPath(member).suffix.lower() not in MEDIA_SUFFIXES:
            raise NotAnImageError(
                f"{member} is not an image or video file; only images and videos are ingested"
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{member} is encrypted")
        if info.file_size > self.limits.max_entry_bytes:
            raise ImageTooLargeError(
                f"{member} is {info.file_size} bytes, limit is {self.limits.max_entry_bytes}"
            )
        try:
            with self.lock, self.zip.open(info) as f:
                data = f.read(self.limits.max_entry_bytes + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise ArchiveError(f"{member} cannot be read from {self.upload.name}: {exc}") from None
        if len(data) > self.limits.max_entry_bytes:
            raise ImageTooLargeError(f"{member} is over {self.limits.max_entry_bytes} bytes")
        if data.startswith(ARCHIVE_MAGIC):
            raise NestedArchiveError(f"{member} is an archive inside {self.upload.name}")
        return data

    def close(self) -> None:
        self.zip.close()


class UploadSource(Closing):
    """The files of one upload (``job_id``): images, videos, and zips whose entries are."""

    kind = UPLOAD_KIND

    def __init__(self, job_id: int, files: Sequence[UploadedFile], limits: ArchiveLimits) -> None:
        self.job_id = job_id
        self.files = tuple(files)
        self.limits = limits
        self._archives: dict[Path, _Archive | FaceAtlasError] = {}
        self._where: dict[str, tuple[UploadedFile, str | None]] | None = None

    @property
    def locator(self) -> str:
        return upload_locator(self.job_id)

    def _listing(self) -> dict[str, tuple[UploadedFile, str | None]]:
        """Every item's locator, in upload order, with its uploaded file and zip entry."""
        if self._where is None:
            where: dict[str, tuple[UploadedFile, str | None]] = {}

            def add(locator: str, upload: UploadedFile, member: str | None) -> None:
                locator = locator[:MAX_LOCATOR_CHARS]
                unique, n = locator, 1
                while unique in where:  # the same name twice: told apart, never merged
                    n += 1
                    unique = f"{locator} ({n})"
                where[unique] = (upload, member)

            for upload in self.files:
                if not is_zip(upload.path):
                    add(upload.name, upload, None)
                    continue
                try:
                    archive: _Archive | FaceAtlasError = _Archive(upload, self.limits)
                except FaceAtlasError as exc:  # the whole zip is one failed item
                    archive = exc
                self._archives[upload.path] = archive
                if isinstance(archive, FaceAtlasError):
                    add(upload.name, upload, None)
                    continue
                for member in archive.entries:
                    add(f"{upload.name}/{member}", upload, member)
            self._where = where
        return self._where

    def count_hint(self) -> int | None:
        return len(self._listing())

    def items(self) -> Iterator[SourceItem]:
        for locator in self._listing():
            yield SourceItem(locator=locator)

    def read(self, item: SourceItem) -> bytes:
        found = self._listing().get(item.locator)
        if found is None:
            raise InvalidRequestError(f"{item.locator} is not part of this upload")
        upload, member = found
        archive = self._archives.get(upload.path)
        if isinstance(archive, FaceAtlasError):
            raise type(archive)(archive.message)
        if archive is not None and member is not None:
            return archive.read(member)
        return self._read_file(upload)

    def _read_file(self, upload: UploadedFile) -> bytes:
        if PurePosixPath(upload.name).suffix.lower() not in MEDIA_SUFFIXES:
            raise NotAnImageError(f"{upload.name} is not an image or video file, or a zip of them")
        return read_file(upload.path, self.limits.max_entry_bytes, upload.name)

    def close(self) -> None:
        for archive in self._archives.values():
            if isinstance(archive, _Archive):
                archive.close()
