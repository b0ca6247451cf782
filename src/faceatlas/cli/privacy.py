"""Privacy commands: opt-out, erasure and takedown, subject access, retention, the privacy log.

They go through the same :class:`~faceatlas.services.PrivacyDesk` as the web and the API,
as the local operator (``cli:NAME``); erasures here may go without a case reference."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from faceatlas.cli.common import (
    AtlasOption,
    CliApp,
    JsonOption,
    Table,
    atlas_service,
    command_with,
    console,
    operator_desk,
    print_json,
    print_listing,
    print_record,
    read_files,
    settings_for,
)
from faceatlas.privacy import OptOutStatus  # an option's choices: Typer needs it at import

if TYPE_CHECKING:
    from faceatlas.accounts import User
    from faceatlas.privacy import ErasureCounts, OptOutReceipt, OptOutRequest
    from faceatlas.services import PrivacyDesk

__all__ = ["register"]

RecordT = TypeVar("RecordT", "OptOutReceipt", "OptOutRequest", "ErasureCounts")
"""What a desk command shows: a receipt, a request, or the counts of an erasure."""

optout_app = CliApp(help="Opt-out by face: requests, decisions, receipts.")
erase_app = CliApp(help="Erase faces, images, source URLs or a whole domain.")
access_app = CliApp(help="Subject access exports (administrator-mediated).")
retention_app = CliApp(help="Retention of thumbnails, probes and log entries.")
privacy_app = CliApp(help="Privacy status and the privacy action log.")

ByOption = Annotated[
    str, typer.Option("--by", help="Administrator carrying this out (logged as cli:NAME).")
]
CaseOption = Annotated[str | None, typer.Option("--case", help="Case or ticket number (logged).")]
Selfies = Annotated[
    list[Path], typer.Argument(help="Selfie photo(s) showing only the requester's face.")
]


def _desk(
    atlas: Path | None, by: str | None = None
) -> AbstractContextManager[tuple[PrivacyDesk, User]]:
    """The privacy desk over the atlas, and the local operator acting (``cli:BY``)."""
    from faceatlas.services import PrivacyDesk

    return operator_desk(atlas, by, lambda service: PrivacyDesk(service, case_optional=True))


def _show_request(req: OptOutRequest) -> None:
    console.print(
        f"opt-out {req.id}: {req.status.value} ({req.templates} template(s), "
        f"contact {req.contact}, received {req.created_at})",
        markup=False,
        highlight=False,
    )
    if req.receipt is not None:
        _show_receipt(req.receipt)


def _show_receipt(receipt: OptOutReceipt) -> None:
    console.print(
        f"receipt for opt-out {receipt.request_id}: threshold {receipt.threshold:.3f} "
        f"({receipt.threshold_source}), completed {receipt.completed_at}",
        markup=False,
        highlight=False,
    )
    _show_counts(receipt.erased)
    console.print("Matching faces will be skipped by future ingestion and hidden from search.")


def _show_counts(counts: ErasureCounts) -> None:
    table = Table(title="erased")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.as_dict().items():
        table.add_row(key, str(value))
    console.print(table)


# --- opt-out ---------------------------------------------------------------------------


@optout_app.command("request")
def optout_request(
    selfies: Selfies,
    contact: Annotated[str, typer.Option("--contact", help="E-mail address for the receipt.")],
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask to be removed: every matching face is erased once approved, and kept out."""
    data = read_files(selfies)
    with atlas_service(atlas) as service:
        req = service.optout_request(data, contact, channel="cli")
    print_record(req, as_json, _show_request)


@optout_app.command("list")
def optout_list(
    status: Annotated[
        OptOutStatus | None, typer.Option("--status", help="Only requests in this state.")
    ] = None,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Opt-out requests, oldest first."""
    with _desk(atlas) as (desk, _user):
        requests = desk.optouts(status)
    print_listing(
        requests,
        as_json,
        ("id", "status", "contact", "templates", "received", "decided by"),
        lambda r: (
            str(r.id),
            r.status.value,
            r.contact,
            str(r.templates),
            r.created_at,
            r.decided_by or "-",
        ),
        title="opt-out requests",
    )


@optout_app.command("show")
def optout_show(request_id: int, atlas: AtlasOption = None, as_json: JsonOption = False) -> None:
    """One request and, once carried out, its receipt."""
    with _desk(atlas) as (desk, _user):
        req = desk.optout(request_id)
    print_record(req, as_json, _show_request)


def _desk_command(
    act: Callable[[PrivacyDesk], Callable[[User, Any, Any], RecordT]],
    show: Callable[[RecordT], None],
    target: object,
    option: object,
) -> Callable[..., None]:
    """A command acting on its ``target`` argument through the desk as ``cli:BY``, with one
    more ``option`` (``--note``, ``--case``), showing what it did with ``show``; ``target``
    and ``option`` are their declarations."""

    def command(
        target: Any,
        by: ByOption,
        option: Any = None,
        atlas: AtlasOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with _desk(atlas, by) as (desk, user):
            done = act(desk)(user, target, option)
        print_record(done, as_json, show)

    return command_with(command_with(command, "target", target), "option", option)


RequestArgument = Annotated[int, typer.Argument(metavar="request_id")]


def _note(help_text: str) -> object:
    return Annotated[str | None, typer.Option("--note", help=help_text)]


optout_app.command(
    "approve", help="Approve a request: erase every matching face now; prints the receipt."
)(_desk_command(lambda desk: desk.approve, _show_receipt, RequestArgument, _note("Decision note.")))
optout_app.command("reject", help="Reject a pending request; its templates are deleted.")(
    _desk_command(lambda desk: desk.reject, _show_request, RequestArgument, _note("Reason given."))
)


# --- erasure ---------------------------------------------------------------------------

for _name, _erase, _help, _target in (
    (
        "face",
        lambda desk: desk.erase_faces,
        "Erase faces (rows, vectors, thumbnails; the image too when no face is left).",
        Annotated[list[int], typer.Argument(help="Face id(s).", metavar="face_ids")],
    ),
    (
        "image",
        lambda desk: desk.erase_images,
        "Erase images with all their faces and sightings.",
        Annotated[list[int], typer.Argument(help="Image id(s).", metavar="image_ids")],
    ),
    (
        "url",
        lambda desk: desk.erase_url,
        "Erase what was seen at URL; images seen elsewhere too keep their other sightings.",
        Annotated[str, typer.Argument(help="Image URL or page URL (exact).", metavar="url")],
    ),
    (
        "domain",
        lambda desk: desk.takedown,
        "Take down a whole domain: images seen only there disappear, and it is not ingested again.",
        Annotated[
            str, typer.Argument(help="Domain; its subdomains are included.", metavar="domain")
        ],
    ),
):
    erase_app.command(_name, help=_help)(_desk_command(_erase, _show_counts, _target, CaseOption))


# --- subject access, retention, log ------------------------------------------------------


@access_app.command("export")
def access_export(
    selfies: Selfies,
    requester: Annotated[str, typer.Option("--requester", help="Who asked (as verified).")],
    verified_by: Annotated[
        str, typer.Option("--verified-by", help="Administrator who verified the requester.")
    ],
    case: Annotated[str, typer.Option("--case", help="Case or ticket number.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON file to write.")],
    thumbnails: Annotated[
        bool, typer.Option("--thumbnails/--no-thumbnails", help="Include face thumbnails.")
    ] = True,
    atlas: AtlasOption = None,
) -> None:
    """Export what the atlas holds that matches a verified requester's selfie, as JSON."""
    data = read_files(selfies)
    with _desk(atlas) as (desk, user):
        export = desk.subject_access(
            user,
            data,
            requester=requester,
            verified_by=verified_by,
            case_ref=case,
            include_thumbnails=thumbnails,
        )
    out.write_text(json.dumps(export, indent=2))
    console.print(
        f"{len(export['faces'])} face(s), {len(export['source_urls'])} source URL(s) -> {out}",
        markup=False,
        highlight=False,
    )


@retention_app.command("run")
def retention_run(atlas: AtlasOption = None, as_json: JsonOption = False) -> None:
    """Delete expired thumbnails, probes and log entries (safe to run repeatedly)."""
    with _desk(atlas) as (desk, user):
        report = desk.retention(user)
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(
            "deleted "
            + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in report.as_dict().items())
        )


@privacy_app.command("log")
def privacy_log(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 50,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recent privacy actions, newest first (identifiers and counts only)."""
    with _desk(atlas) as (desk, _user):
        entries = desk.log(limit)
    print_listing(
        entries,
        as_json,
        ("id", "at", "action", "actor", "case", "target", "details"),
        lambda e: (
            str(e.id),
            e.at,
            e.action,
            e.actor,
            e.case_ref or "-",
            e.target,
            json.dumps(e.details),
        ),
        title="privacy actions",
    )


@privacy_app.command("journal")
def privacy_journal(
    out: Annotated[Path, typer.Argument(help="The journal file, kept beside the backups.")],
    atlas: AtlasOption = None,
) -> None:
    """Rewrite the privacy journal a restore replays erasures from (docs/operations.md)."""
    from faceatlas.services.backup import refresh_journal

    written = refresh_journal(settings_for(atlas), out)
    console.print(f"privacy journal written to {written}", highlight=False)


def register(app: CliApp) -> None:
    app.add_typer(optout_app, name="optout")
    app.add_typer(erase_app, name="erase")
    app.add_typer(access_app, name="access")
    app.add_typer(retention_app, name="retention")
    app.add_typer(privacy_app, name="privacy")
