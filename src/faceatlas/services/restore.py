"""Restoring an atlas from a backup (:mod:`faceatlas.services.backup`) without undoing an
erasure (docs/operations.md).

Nothing moves before the backup checks out: every file is copied into a staging folder beside
the atlas while its SHA-256 is computed, and must match the manifest (no file changed, missing
or added); the staged catalog's audit chain must verify and end at the head the manifest names;
the model must be the one the settings use.

The erasures made after the snapshot are then carried out again in the staged atlas
(:mod:`faceatlas.privacy.replay`). They are read from the audit log of the atlas being
replaced, when it grew from this backup (its entry at the snapshot's head has the same hash)
and its chain verifies, and from a privacy journal (``--privacy-journal``, by default the one
beside the backup), whose entries must carry their own hashes, whose atlas must be this one,
and whose opt-out templates must match the digest their request recorded. Ids given out after
the snapshot are never given out again. The restore is audited in the restored atlas. Only
then is the atlas folder moved aside (kept, never deleted) and the staged one put in its
place; the atlas's writer lock is held throughout, and a failure leaves it as it was.
"""

from __future__ import annotations

import json
import shutil
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faceatlas.accounts import User
from faceatlas.atlas import Atlas
from faceatlas.audit import AuditEntry, AuditEvent, AuditLog
from faceatlas.audit.log import recomputed_hash
from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.errors import (
    AuditIntegrityError,
    BackupIntegrityError,
    ConfigError,
    ConflictError,
    InvalidRequestError,
    ModelMismatchError,
    NotFoundError,
)
from faceatlas.gallery import CATALOG_FILE, writer_lock
from faceatlas.privacy.replay import ReplayAction, ReplayOutcome, replay_actions
from faceatlas.services.accounts import audit_role
from faceatlas.services.backup import FORMAT, JOURNAL_FILE, MANIFEST_FILE, Manifest, file_digest
from faceatlas.store import Catalog
from faceatlas.store.backup import BackupStore, OptOutCopy, read_only_database, sqlite_problem
from faceatlas.store.rows import Database
from faceatlas.types import record

__all__ = ["RestoreReport", "read_manifest", "restore"]

CHUNK = 1 << 20


@record
class RestoreReport:
    atlas: Path
    source: Path
    manifest: Manifest
    moved_aside: Path | None
    replay_sources: tuple[str, ...]
    replayed: tuple[ReplayOutcome, ...]
    index_vectors: int

    def as_dict(self) -> dict[str, Any]:
        head = self.manifest.audit_head
        return {
            "atlas": str(self.atlas),
            "source": str(self.source),
            "snapshot_created_at": self.manifest.created_at,
            "snapshot_audit_head_seq": None if head is None else head[0],
            "moved_aside": None if self.moved_aside is None else str(self.moved_aside),
            "replay_sources": list(self.replay_sources),
            "replayed": [r.as_dict() for r in self.replayed],
            "index_vectors": self.index_vectors,
        }


@dataclass(slots=True)
class _Replays:
    """The privacy actions after the snapshot, from every source, one per audit entry."""

    after_seq: int
    audit_first: str | None
    actions: dict[str, ReplayAction] = field(default_factory=dict)
    digests: dict[int, str] = field(default_factory=dict)
    high_water: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def take(self, entry: AuditEntry, optout: OptOutCopy | None) -> None:
        action = ReplayAction.from_audit(
            entry.seq, entry.at, entry.action, entry.actor, entry.case_number, entry.details
        )
        if action is None or entry.seq <= self.after_seq:
            return
        if action.action == "optout_requested" and "templates_sha256" in entry.details:
            self.digests[action.request_id or 0] = str(entry.details["templates_sha256"])
        self.actions.setdefault(entry.entry_hash, replace(action, optout=optout))

    def raise_marks(self, marks: dict[str, int]) -> None:
        for table, mark in marks.items():
            self.high_water[table] = max(self.high_water.get(table, 0), int(mark))

    def checked(self) -> list[ReplayAction]:
        """The actions, each opt-out copy matching the digest its request recorded."""
        for action in self.actions.values():
            copy, expected = action.optout, self.digests.get(action.request_id or 0)
            if copy is not None and expected is not None and copy.templates_sha256 != expected:
                raise BackupIntegrityError(
                    f"the templates of opt-out {copy.request_id} do not match the digest "
                    "its request recorded in the audit log"
                )
        return sorted(self.actions.values(), key=lambda a: a.seq)


def read_manifest(source: Path) -> Manifest:
    try:
        data = json.loads((source / MANIFEST_FILE).read_text(encoding="utf-8"))
        manifest = Manifest.from_dict(data)
    except FileNotFoundError:
        raise NotFoundError(f"no backup at {source} (no {MANIFEST_FILE})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupIntegrityError(
            f"{source / MANIFEST_FILE} is not a backup manifest: {exc}"
        ) from None
    if manifest.format != FORMAT:
        raise BackupIntegrityError(f"unknown backup format {manifest.format!r}")
    return manifest


def restore(
    settings: Settings,
    source: Path,
    actor: User,
    *,
    journal: Path | None = None,
    without_replay: bool = False,
) -> RestoreReport:
    """Restore the backup at ``source`` into the atlas folder ``settings`` names, then replay
    the privacy actions made after its snapshot (see the module docstring)."""
    if settings.database_url is not None:
        raise ConfigError("the catalog is in PostgreSQL: restore it with pg_restore")
    manifest = read_manifest(source)
    model_id = create_engine(EngineSpec.from_settings(settings)).model_id
    if manifest.model_id not in (None, model_id):
        raise ModelMismatchError(
            f"the backup holds {manifest.model_id} embeddings; the settings use {model_id}"
        )
    target = settings.atlas_dir
    if target.exists() and not target.is_dir():
        raise InvalidRequestError(f"{target} is not a folder")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staging = target.with_name(f".{target.name}.restoring-{stamp}")
    live = target.is_dir() and any(target.iterdir())
    aside = target.with_name(f"{target.name}.before-restore-{stamp}") if live else None
    with writer_lock(target) if live else nullcontext():  # no erasure slips in meanwhile
        try:
            _stage(source, manifest, staging)
            replays = _replays(manifest, target, journal or _beside(source))
            if not replays.sources and not without_replay:
                raise InvalidRequestError(
                    f"nothing says which erasures came after this snapshot: there is no atlas "
                    f"at {target} and no privacy journal; give --privacy-journal, or "
                    "--without-replay to restore knowing that erasures made since come back"
                )
            report = _replayed(settings, staging, replays, actor, source, manifest, aside)
            _swap(target, staging, aside)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return report


def _replayed(
    settings: Settings,
    staging: Path,
    replays: _Replays,
    actor: User,
    source: Path,
    manifest: Manifest,
    aside: Path | None,
) -> RestoreReport:
    """Replay into the staged atlas, before it takes the atlas's place: a replay that fails
    leaves the atlas as it was."""
    actions = replays.checked()
    with Atlas.open(settings=settings.with_overrides(atlas_dir=staging)) as atlas:
        if not manifest.index_included:
            atlas.gallery.rebuild_index()
        BackupStore(atlas.catalog.db).raise_id_high_waters(replays.high_water)
        outcomes = tuple(replay_actions(atlas.scope, actions))
        report = RestoreReport(
            settings.atlas_dir,
            source,
            manifest,
            aside,
            tuple(replays.sources),
            outcomes,
            len(atlas.index),
        )
        atlas.audit.append(
            AuditEvent(
                actor=actor.username,
                actor_role=audit_role(actor),
                actor_unit=actor.unit,
                action="restore",
                details={**report.as_dict(), "replayed": [r.as_dict() for r in outcomes[:200]]},
            )
        )
    return report


def _beside(source: Path) -> Path | None:
    path = source.parent / JOURNAL_FILE
    return path if path.is_file() else None


def _stage(source: Path, manifest: Manifest, staging: Path) -> None:
    """Copy the backup into ``staging``, checking every file against the manifest, then the
    staged catalog's audit chain and head."""
    listed = {f.path: f for f in manifest.files}
    present = {str(p.relative_to(source)) for p in source.rglob("*") if p.is_file()}
    extra = sorted(present - set(listed) - {MANIFEST_FILE})
    if extra:
        raise BackupIntegrityError(f"files not in the manifest: {', '.join(extra[:5])}")
    if CATALOG_FILE not in listed:
        raise BackupIntegrityError(f"the manifest lists no {CATALOG_FILE}")
    staging.mkdir(mode=0o700, parents=True)
    for name, expected in sorted(listed.items()):
        if name not in present:
            raise BackupIntegrityError(f"{name} is missing from the backup")
        target = staging / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
        target.chmod(0o600)
        found = file_digest(target)
        if (found.sha256, found.bytes) != (expected.sha256, expected.bytes):
            raise BackupIntegrityError(f"{name} does not match the manifest: it was changed")
    db = read_only_database(staging / CATALOG_FILE)
    try:
        log = AuditLog(db)
        report = log.verify()
        if not report.ok:
            problems = "; ".join(p.message for p in report.problems[:5])
            raise BackupIntegrityError(f"the backup's audit chain does not verify: {problems}")
        if log.last_entry() != manifest.audit_head:
            raise BackupIntegrityError("the backup's audit head is not the manifest's")
        if Catalog(db).get_meta("model_id") != manifest.model_id:
            raise BackupIntegrityError("the backup's model is not the manifest's")
    finally:
        db.dispose()


def _replays(manifest: Manifest, target: Path, journal: Path | None) -> _Replays:
    head = manifest.audit_head
    replays = _Replays(0 if head is None else head[0], manifest.audit_first)
    if (target / CATALOG_FILE).is_file():
        problem = sqlite_problem(target / CATALOG_FILE)
        if problem is not None:
            raise ConflictError(
                f"the atlas at {target} cannot be read ({problem}): move it away, then "
                "restore with --privacy-journal"
            )
        db = read_only_database(target / CATALOG_FILE)
        try:
            _from_live(replays, db, manifest, target)
        finally:
            db.dispose()
    if journal is not None:
        _from_journal(replays, journal)
    return replays


def _from_live(replays: _Replays, db: Database, manifest: Manifest, target: Path) -> None:
    log = AuditLog(db)
    head = manifest.audit_head
    if head is not None and log.entry_hashes([head[0]]).get(head[0]) != head[1]:
        raise ConflictError(
            f"the atlas at {target} did not grow from this backup (its audit entry {head[0]} "
            "differs): move it away, or restore into another folder"
        )
    verified = log.verify()
    if not verified.ok:
        raise AuditIntegrityError(
            f"the audit log of the atlas at {target} does not verify, so the erasures it "
            "records cannot be trusted: move it away and restore with --privacy-journal"
        )
    store = BackupStore(db)
    for entry in log.iter_all():
        request = ReplayAction.from_audit(
            entry.seq, entry.at, entry.action, entry.actor, None, entry.details
        )
        request_id = None if request is None else request.request_id
        replays.take(entry, None if request_id is None else store.optout_copy(request_id))
    replays.raise_marks(store.id_high_waters())
    replays.sources.append(f"the audit log of the atlas it replaces ({target})")


def _from_journal(replays: _Replays, path: Path) -> None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0])
        rows = [json.loads(line) for line in lines[1:]]
    except FileNotFoundError:
        raise NotFoundError(f"no privacy journal at {path}") from None
    except (ValueError, IndexError) as exc:
        raise BackupIntegrityError(f"{path} is not a privacy journal: {exc}") from None
    if header.get("audit_first") != replays.audit_first:  # the atlas's first audit entry
        raise BackupIntegrityError(f"the privacy journal {path} belongs to another atlas")
    for number, row in enumerate(rows, start=2):
        try:
            entry = AuditEntry(**row["entry"])
            optout = row.get("optout")
            copy = None if optout is None else OptOutCopy.from_dict(optout)
        except (KeyError, TypeError, ValueError) as exc:
            message = f"{path} line {number} is not a journal entry: {exc}"
            raise BackupIntegrityError(message) from None
        if recomputed_hash(entry) != entry.entry_hash:
            raise BackupIntegrityError(
                f"{path} line {number}: audit entry {entry.seq} was changed after it was logged"
            )
        replays.take(entry, copy)
    replays.raise_marks(header.get("id_high_water") or {})
    replays.sources.append(f"the privacy journal {path}")


def _swap(target: Path, staging: Path, aside: Path | None) -> None:
    """Move the atlas folder aside (kept, never deleted) and the staged one in its place."""
    if aside is None:
        if target.is_dir():
            target.rmdir()  # an empty folder
        staging.rename(target)
        return
    target.rename(aside)
    try:
        staging.rename(target)
    except BaseException:
        aside.rename(target)
        raise
