"""Adding photos from the web app: files an administrator uploads become an ingest job.

Photos (image files, and folders as zips), a URL list (a text file) or a web archive
(WARC) are saved under the atlas (``uploads/<random>/``, in files the server names), held
to the limits before any job starts, and handed to the job runner, which removes them when
the job ends. Each upload is audited (``upload_started``: who, the job, each file's name,
size and SHA-256) and its photos' sightings keep the uploaded names.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from faceatlas.accounts import Role, User
from faceatlas.audit import AuditEntry
from faceatlas.choices import SourceKind
from faceatlas.config import Settings
from faceatlas.errors import (
    ImageTooLargeError,
    InvalidRequestError,
    PermissionDeniedError,
)
from faceatlas.ingest.upload import (
    UPLOAD_KIND,
    ArchiveLimits,
    UploadedFile,
    UploadSource,
    check_archive,
    is_zip,
)
from faceatlas.jobs import JobInput, JobRecord, JobRunner
from faceatlas.types import record

__all__ = ["MAX_URL_LIST_BYTES", "IncomingFile", "SavedFile", "UploadDesk", "UploadKind"]

MAX_URL_LIST_BYTES = 2 * 1024 * 1024
"""Largest URL list accepted as a file (the URLs it may hold are bounded by the job runner)."""
CHUNK = 1 << 20
WARC_MAGIC = (b"\x1f\x8b", b"WARC/")
FILES_AUDITED = 200
"""Files listed by name, size and digest in an upload's audit entry (all are counted)."""


class UploadKind(StrEnum):
    """What an upload holds."""

    PHOTOS = "photos"
    """Image files, and folders of them as zip archives."""
    URLS = "urls"
    """One text file of image URLs, each optionally followed by the page it is on."""
    WARC = "warc"
    """One web archive (``.warc`` or ``.warc.gz``)."""


@record
class IncomingFile:
    """An uploaded file as the client sent it: its name and a stream of its bytes."""

    name: str
    stream: BinaryIO


@record
class SavedFile:
    """An uploaded file as saved: its cleaned name, where the server put it, its size and
    SHA-256."""

    name: str
    path: Path
    byte_size: int
    sha256: str


def clean_name(name: str, position: int) -> str:
    """The client's file name without folders or control characters (provenance only:
    never a path on the server); ``file-N`` when nothing is left."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()[:255]
    return base if base not in ("", ".", "..") else f"file-{position + 1}"


class UploadDesk:
    """Uploads of an atlas, run as jobs of ``jobs``; ``record`` audits them."""

    def __init__(
        self, settings: Settings, jobs: JobRunner, record: Callable[..., AuditEntry]
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.record = record

    @property
    def limits(self) -> ArchiveLimits:
        st = self.settings
        return ArchiveLimits(
            max_entries=st.archive_max_entries,
            max_total_bytes=st.archive_max_total_bytes,
            max_entry_bytes=st.max_file_bytes,
        )

    def start(self, user: User, kind: UploadKind, files: Sequence[IncomingFile]) -> JobRecord:
        """Save ``files``, check them and start the job that ingests them; audited.

        Refused before anything is saved when the user is no administrator or the number of
        files is wrong; refused before any job starts, with every saved byte removed, when
        the files are too large together, a zip is over the limits or damaged, a URL list is
        not text or a WARC is not one."""
        if not user.role.allows(Role.ADMIN):
            raise PermissionDeniedError("adding photos needs the admin role")
        most = self.settings.upload_max_files if kind is UploadKind.PHOTOS else 1
        if not 1 <= len(files) <= most:
            what = f"1 to {most} files" if most > 1 else "one file"
            raise InvalidRequestError(f"attach {what} for a {kind.value} upload")
        if kind is UploadKind.URLS:
            return self._url_list(user, files[0])
        scratch = self.jobs.new_scratch()
        try:
            saved = self._save(files, scratch)
            start = self._warc if kind is UploadKind.WARC else self._photos
            job = start(user, saved, scratch)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        self._audit(user, job, kind, [(f.name, f.byte_size, f.sha256) for f in saved])
        return job

    def _audit(
        self, user: User, job: JobRecord, kind: UploadKind, files: list[tuple[str, int, str]]
    ) -> None:
        """Who uploaded what: the job, and each file's ``(name, size, SHA-256)``."""
        self.record(
            user,
            "upload_started",
            job_id=job.id,
            kind=kind.value,
            file_count=len(files),
            total_bytes=sum(size for _, size, _ in files),
            files=[
                {"name": name, "bytes": size, "sha256": sha256}
                for name, size, sha256 in files[:FILES_AUDITED]
            ],
        )

    def _save(self, files: Sequence[IncomingFile], folder: Path) -> list[SavedFile]:
        """Copy each stream into ``folder`` under a name the server picks, within
        ``upload_max_bytes`` all together."""
        budget = self.settings.upload_max_bytes
        saved = []
        for position, incoming in enumerate(files):
            path = folder / f"{position:05d}"
            digest = hashlib.sha256()
            size = 0
            with path.open("xb") as out:
                while chunk := incoming.stream.read(CHUNK):
                    size += len(chunk)
                    if size > budget:
                        raise ImageTooLargeError(
                            f"the upload exceeds {self.settings.upload_max_bytes} bytes"
                        )
                    digest.update(chunk)
                    out.write(chunk)
            budget -= size
            name = clean_name(incoming.name, position)
            saved.append(SavedFile(name, path, size, digest.hexdigest()))
        return saved

    def _photos(self, user: User, saved: list[SavedFile], scratch: Path) -> JobRecord:
        limits = self.limits
        for f in saved:
            if is_zip(f.path):
                check_archive(f.path, f.name, limits)  # over the limits: nothing starts
        uploads = [UploadedFile(f.path, f.name) for f in saved]

        def build(job_id: int) -> UploadSource:
            return UploadSource(job_id, uploads, limits)

        return self.jobs.submit_built(
            UPLOAD_KIND, _target(saved), user.username, build, scratch=scratch
        )

    def _warc(self, user: User, files: list[SavedFile], scratch: Path) -> JobRecord:
        saved = files[0]
        with saved.path.open("rb") as f:
            head = f.read(5)
        if not head.startswith(WARC_MAGIC):
            raise InvalidRequestError(f"{saved.name} is not a WARC file (.warc or .warc.gz)")
        source = JobInput(saved.path, SourceKind.WARC)
        return self.jobs.submit_built(
            SourceKind.WARC.value, saved.name, user.username, lambda _id: source, scratch=scratch
        )

    def _url_list(self, user: User, incoming: IncomingFile) -> JobRecord:
        data = incoming.stream.read(MAX_URL_LIST_BYTES + 1)
        if len(data) > MAX_URL_LIST_BYTES:
            raise ImageTooLargeError(f"a URL list may hold at most {MAX_URL_LIST_BYTES} bytes")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidRequestError("the URL list is not UTF-8 text") from None
        job = self.jobs.submit_urls(text.splitlines(), user.username)
        described = (clean_name(incoming.name, 0), len(data), hashlib.sha256(data).hexdigest())
        self._audit(user, job, UploadKind.URLS, [described])
        return job


def _target(saved: Sequence[SavedFile]) -> str:
    """What a job's list shows for an upload: its file's name, or how many and the first."""
    if len(saved) == 1:
        return saved[0].name
    names = ", ".join(f.name for f in saved[:3])
    more = ", ..." if len(saved) > 3 else ""
    return f"{len(saved)} files: {names}{more}"
