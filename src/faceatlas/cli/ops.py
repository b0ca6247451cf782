"""``faceatlas backup`` and ``faceatlas restore``: snapshots of a live atlas, and restores that
never undo an erasure (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from faceatlas.cli.common import (
    AtlasOption,
    CliApp,
    JsonOption,
    console,
    operator,
    print_json,
    settings_for,
)

if TYPE_CHECKING:
    from faceatlas.services.restore import RestoreReport

__all__ = ["register"]


def backup(
    dest: Annotated[Path, typer.Argument(help="New (or empty) folder for the backup.")],
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Back up a live atlas into DEST: a consistent snapshot, with a manifest of hashes.

    Ingest and search go on meanwhile. The privacy journal beside DEST
    (privacy-journal.jsonl) is rewritten, and the backup is audited.
    """
    from faceatlas.services.backup import backup as take_backup

    report = take_backup(settings_for(atlas), dest, operator())
    if as_json:
        print_json(report.as_dict())
        return
    manifest = report.manifest
    head = "empty" if manifest.audit_head is None else f"entry {manifest.audit_head[0]}"
    size = sum(f.bytes for f in manifest.files)
    console.print(
        f"backed up {settings_for(atlas).atlas_dir} to {dest}: {len(manifest.files)} files, "
        f"{size:,} bytes, {manifest.counts.get('faces', 0)} faces, audit head {head}\n"
        f"manifest SHA-256 {report.manifest_sha256}\nprivacy journal {report.journal}",
        highlight=False,
        soft_wrap=True,
    )


def restore(
    source: Annotated[Path, typer.Argument(help="A backup folder made by `faceatlas backup`.")],
    atlas: AtlasOption = None,
    privacy_journal: Annotated[
        Path | None,
        typer.Option(
            "--privacy-journal",
            help="Privacy journal to replay erasures from [default: the one beside SOURCE].",
        ),
    ] = None,
    without_replay: Annotated[
        bool,
        typer.Option(
            "--without-replay",
            help="Restore even when no atlas or journal says which erasures came after the "
            "snapshot (they would come back).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore the atlas from a backup; erasures made since its snapshot are replayed.

    The backup is checked (every file's SHA-256, the audit chain and its head) before
    anything is put in place; a tampered backup is refused (exit 25). The atlas it
    replaces is moved aside, never deleted. Stop the server before restoring.
    """
    from faceatlas.services.restore import restore as run_restore

    report = run_restore(
        settings_for(atlas),
        source,
        operator(),
        journal=privacy_journal,
        without_replay=without_replay,
    )
    if as_json:
        print_json(report.as_dict())
    else:
        _show(report)


def _show(report: RestoreReport) -> None:
    head = report.manifest.audit_head
    console.print(
        f"restored {report.atlas} from {report.source} (snapshot of "
        f"{report.manifest.created_at}, audit entry {0 if head is None else head[0]}); "
        f"{report.index_vectors} faces indexed",
        highlight=False,
    )
    if report.moved_aside is not None:
        console.print(f"the atlas it replaced is kept at {report.moved_aside}", highlight=False)
    if not report.replay_sources:
        console.print("no privacy actions replayed: nothing recorded those after the snapshot")
        return
    console.print(
        f"erasures are not undone by a restore: replayed {len(report.replayed)} privacy "
        f"action(s) made after the snapshot, from {' and '.join(report.replay_sources)}",
        highlight=False,
    )
    for r in report.replayed:
        console.print(f"  audit entry {r.seq}: {r.action} {r.target}: {r.outcome}", highlight=False)


def register(app: CliApp) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
