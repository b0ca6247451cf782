"""Backups of a live atlas, and the privacy journal kept beside them (docs/operations.md).

``backup`` writes, into a new folder, a consistent snapshot of every SQLite file of the atlas
(the catalog with its audit log: SQLite's online backup API, so ingest and search go on) and a
copy of its other files (the vector index, taken first: the catalog is the source of truth and
a restore brings the index in line with it), then ``manifest.json``: the SHA-256 and size of
every file, the model, the audit chain's head in the snapshot and the id high-water marks.
Backups hold faces: folders are made ``0700`` and files ``0600``.

The privacy journal (``privacy-journal.jsonl`` beside the backup folders) lists every privacy
action of the atlas's audit log as its hash-chained entry, with opt-out templates, so a restore
can replay the erasures made after a snapshot even when the atlas it replaces is gone. Each
backup rewrites it; ``faceatlas privacy journal`` rewrites it between backups.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faceatlas import __version__
from faceatlas.accounts import User
from faceatlas.audit import AuditEvent, AuditLog
from faceatlas.choices import IndexBackend
from faceatlas.config import Settings
from faceatlas.errors import AuditIntegrityError, ConfigError, InvalidRequestError
from faceatlas.gallery import CATALOG_FILE, INDEX_DIR
from faceatlas.privacy.replay import ReplayAction
from faceatlas.services.accounts import audit_role
from faceatlas.store import Catalog
from faceatlas.store.backup import BackupStore, is_sqlite_file, read_only_database, snapshot_sqlite
from faceatlas.store.rows import Database
from faceatlas.types import record

__all__ = [
    "FORMAT",
    "JOURNAL_FILE",
    "MANIFEST_FILE",
    "BackupFile",
    "BackupReport",
    "Manifest",
    "backup",
    "file_digest",
    "journal_lines",
    "refresh_journal",
    "write_journal",
]

FORMAT = "faceatlas-backup/1"
JOURNAL_FORMAT = "faceatlas-privacy-journal/1"
MANIFEST_FILE = "manifest.json"
JOURNAL_FILE = "privacy-journal.jsonl"
SKIPPED = ("writer.lock",)
SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")
"""Live-process files: the lock, SQLite's side files (the snapshot is self-contained) and
half-written index saves."""
CHUNK = 1 << 20


@record
class BackupFile:
    path: str
    bytes: int
    sha256: str


@record
class Manifest:
    """What a backup holds; ``audit_head`` is ``(seq, hash)`` of the snapshot's newest entry
    and ``audit_first`` the hash of its first (the atlas's identity), ``None`` when empty."""

    created_at: str
    faceatlas_version: str
    model_id: str | None
    embedding_dim: int | None
    audit_head: tuple[int, str] | None
    audit_first: str | None
    counts: dict[str, int]
    id_high_water: dict[str, int]
    files: tuple[BackupFile, ...]
    index_included: bool = True
    """False for a Milvus index: it lives outside the atlas, and a restore rebuilds it."""
    format: str = FORMAT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        head = data["audit_head"]
        return cls(
            **{
                **data,
                "audit_head": None if head is None else (int(head[0]), str(head[1])),
                "files": tuple(BackupFile(**f) for f in data["files"]),
            }
        )


@record
class BackupReport:
    folder: Path
    manifest: Manifest
    manifest_sha256: str
    journal: Path

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "manifest_sha256": self.manifest_sha256,
            "journal": str(self.journal),
            **self.manifest.as_dict(),
        }


def file_digest(path: Path) -> BackupFile:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return BackupFile(path.name, size, digest.hexdigest())


def backup(settings: Settings, dest: Path, actor: User) -> BackupReport:
    """Snapshot the atlas ``settings`` name into the new (or empty) folder ``dest``, rewrite
    the privacy journal beside it, and audit the backup in the atlas."""
    if settings.database_url is not None:
        raise ConfigError(
            "the catalog is in PostgreSQL: back it up with pg_dump, and the atlas folder "
            "with it (docs/operations.md#postgresql)"
        )
    root = settings.atlas_dir
    if not (root / CATALOG_FILE).is_file():
        raise InvalidRequestError(f"no atlas at {root}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InvalidRequestError(f"{dest} exists and is not an empty folder")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    with_index = settings.index_backend is not IndexBackend.MILVUS
    with _catalog(root) as catalog:
        audit = AuditLog(catalog.db)
        # in the snapshot: its head, so a restore can tell the atlases that grew from it
        _audit(audit, actor, "backup", {"folder": str(dest)})
        try:
            _copy_atlas(root, dest, with_index)
            manifest = replace(_manifest(dest), index_included=with_index)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        text = json.dumps(manifest.as_dict(), indent=2)
        _write_private(dest / MANIFEST_FILE, text)
        sha = hashlib.sha256(text.encode()).hexdigest()
        journal = write_journal(catalog.db, dest.parent / JOURNAL_FILE)
        details = {
            "folder": str(dest),
            "manifest_sha256": sha,
            "audit_head_seq": None if manifest.audit_head is None else manifest.audit_head[0],
            "files": len(manifest.files),
            "bytes": sum(f.bytes for f in manifest.files),
        }
        _audit(audit, actor, "backup_written", details)
    return BackupReport(dest, manifest, sha, journal)


def _audit(log: AuditLog, actor: User, action: str, details: dict[str, Any]) -> None:
    event = AuditEvent(actor.username, audit_role(actor), actor.unit, action, details=details)
    log.append(event)


def _copy_atlas(root: Path, dest: Path, with_index: bool) -> None:
    """Plain files first (the index), then a snapshot of each SQLite file."""
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.name not in SKIPPED
        and not p.name.endswith(SKIPPED_SUFFIXES)
        and (with_index or INDEX_DIR not in p.relative_to(root).parts[:1])
    )
    databases = [p for p in files if is_sqlite_file(p)]
    for path in [p for p in files if p not in databases] + databases:
        target = dest / path.relative_to(root)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path in databases:
            snapshot_sqlite(path, target)
        else:
            shutil.copyfile(path, target)
        target.chmod(0o600)


def _manifest(dest: Path) -> Manifest:
    db = read_only_database(dest / CATALOG_FILE)
    try:
        log = AuditLog(db)
        report = log.verify()
        if not report.ok:
            raise AuditIntegrityError(
                "the atlas's audit log does not verify, so it is not backed up: "
                + "; ".join(p.message for p in report.problems[:5])
            )
        catalog = Catalog(db)
        dim = catalog.get_meta("embedding_dim")
        first = log.entry_hashes([1]).get(1)
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            faceatlas_version=__version__,
            model_id=catalog.get_meta("model_id"),
            embedding_dim=None if dim is None else int(dim),
            audit_head=log.last_entry(),
            audit_first=first,
            counts=catalog.counts(),
            id_high_water=BackupStore(db).id_high_waters(),
            files=tuple(
                replace(file_digest(p), path=str(p.relative_to(dest)))
                for p in sorted(dest.rglob("*"))
                if p.is_file()
            ),
        )
    finally:
        db.dispose()
    return manifest


# --- the privacy journal -------------------------------------------------------------------


def journal_lines(db: Database) -> Iterator[dict[str, Any]]:
    """The journal's lines: a header, then each privacy action of the audit log to replay
    (the whole entry, hashes included, and an opt-out's request with its templates)."""
    log = AuditLog(db)
    store = BackupStore(db)
    head = log.last_entry()
    yield {
        "format": JOURNAL_FORMAT,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "audit_head": head,
        "audit_first": log.entry_hashes([1]).get(1),
        "id_high_water": store.id_high_waters(),
    }
    for entry in log.iter_all():
        action = ReplayAction.from_audit(
            entry.seq, entry.at, entry.action, entry.actor, entry.case_number, entry.details
        )
        if action is None:
            continue
        copy = None if action.request_id is None else store.optout_copy(action.request_id)
        yield {"entry": entry.as_dict(), "optout": None if copy is None else copy.as_dict()}


def write_journal(db: Database, path: Path) -> Path:
    """Write the privacy journal of the catalog ``db`` to ``path`` (replaced whole, ``0600``)."""
    text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in journal_lines(db))
    _write_private(path, text)
    return path


def refresh_journal(settings: Settings, path: Path) -> Path:
    """Rewrite the privacy journal of the atlas ``settings`` name at ``path``."""
    if settings.database_url is not None:
        raise ConfigError("the catalog is in PostgreSQL: its privacy log is in its pg_dump")
    with _catalog(settings.atlas_dir) as catalog:
        return write_journal(catalog.db, path)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextmanager
def _catalog(root: Path) -> Iterator[Catalog]:
    catalog = Catalog.open(f"sqlite:///{root / CATALOG_FILE}")
    try:
        yield catalog
    finally:
        catalog.close()
