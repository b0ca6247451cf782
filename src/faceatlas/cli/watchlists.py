"""Watchlist commands: add, approve, renew, delete, list, alerts, deliver, purge.

They go through the same :class:`~faceatlas.services.watchlists.WatchlistDesk` as the web
and the API. ``--by NAME`` acts as the account NAME, signed in with its password
(``FACEATLAS_PASSWORD`` or a prompt), as the case commands do: approval needs a second
person, a supervisor of the case owner's unit or an administrator; without ``--by`` the
local operator (``cli:<os user>``) acts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from faceatlas.cli.cases import ByOption, acting
from faceatlas.cli.common import (
    AtlasOption,
    CliApp,
    JsonOption,
    Table,
    atlas_service,
    console,
    print_json,
    print_listing,
    read_files,
)
from faceatlas.errors import InvalidRequestError

if TYPE_CHECKING:
    from faceatlas.accounts import User
    from faceatlas.services.watchlists import AlertRecord, WatchlistDesk, WatchlistEntry

__all__ = ["register"]

watchlist_app = CliApp(help="Case-bound watchlists: entries, approvals, alerts.")

EntryArg = Annotated[int, typer.Argument(help="The watchlist entry's id.", min=1)]
DaysOption = Annotated[
    int | None, typer.Option("--days", min=1, help="Days from now (at most watchlist_max_days).")
]
CaseFilter = Annotated[str | None, typer.Option("--case", help="Only this case's.")]


@contextmanager
def _desk(atlas: Path | None, by: str | None) -> Iterator[tuple[WatchlistDesk, User]]:
    from faceatlas.services.watchlists import WatchlistDesk

    with atlas_service(atlas) as service:
        yield WatchlistDesk(service), acting(service.casework, by)


def _show(entry: WatchlistEntry, as_json: bool) -> None:
    if as_json:
        print_json(entry.as_dict())
        return
    ended = f" ({entry.ended_reason.value})" if entry.ended_reason else ""
    expires = f", expires {entry.expires_at}" if entry.expires_at else ""
    console.print(
        f"watchlist entry {entry.id} of case {entry.case_number}: {entry.status.value}{ended}"
        f"{expires}",
        markup=False,
        highlight=False,
    )


@watchlist_app.command("add")
def add(
    case: Annotated[str, typer.Option("--case", help="An open case you may search in.")],
    photo: Annotated[Path | None, typer.Argument(help="The probe photo.")] = None,
    days: DaysOption = None,
    identity: Annotated[
        int | None, typer.Option("--identity", min=1, help="Watch for an identity instead.")
    ] = None,
    face: Annotated[int | None, typer.Option("--face", min=0, help="Which face.")] = None,
    label: Annotated[str, typer.Option("--label", help="What the entry is about.")] = "",
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Stricter than the one in force.")
    ] = None,
    by: ByOption = None,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put a face of PHOTO (or --identity) on a case's watchlist; pending until approved."""
    if (photo is None) == (identity is None):
        raise InvalidRequestError("give a probe photo or --identity, one of them")
    from faceatlas.services.watchlists import WatchRequest

    with _desk(atlas, by) as (desk, user):
        request = WatchRequest(case, days or desk.max_days, label, threshold)
        if photo is None:
            entry = desk.add_identity(user, identity or 0, request)
        else:
            entry = desk.add_photo(user, read_files([photo])[0], request, face)
    _show(entry, as_json)


def _period(action: str, help_text: str) -> None:
    """Register ``approve`` or ``renew``: a reviewer sets an entry's period from now."""

    def command(
        entry: EntryArg,
        days: DaysOption = None,
        by: ByOption = None,
        atlas: AtlasOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with _desk(atlas, by) as (desk, user):
            if action == "approve":
                changed = desk.approve(user, entry, days)
            else:
                changed = desk.renew(user, entry, days or desk.max_days)
        _show(changed, as_json)

    command.__doc__ = help_text
    watchlist_app.command(action)(command)


_period("approve", "Approve a pending entry for --days (default: as asked), as a reviewer.")
_period("renew", "Renew an active entry for --days from now (default the maximum).")


@watchlist_app.command("delete")
def delete(
    entry: EntryArg, by: ByOption = None, atlas: AtlasOption = None, as_json: JsonOption = False
) -> None:
    """End an entry now and purge its probe embedding."""
    with _desk(atlas, by) as (desk, user):
        _show(desk.delete(user, entry), as_json)


@watchlist_app.command("list")
def list_entries(
    case: CaseFilter = None,
    by: ByOption = None,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Watchlist entries of the cases you may read (ended ones purged first)."""
    with _desk(atlas, by) as (desk, user):
        entries = desk.entries(user, case)
    print_listing(
        entries,
        as_json,
        ("entry", "case", "watching for", "status", "requested by", "approved by", "expires"),
        _entry_row,
        title="watchlist entries",
        key="entries",
    )


def _entry_row(e: WatchlistEntry) -> tuple[str, ...]:
    what = f"identity {e.identity_id}" if e.identity_id else f"probe {(e.probe_sha256 or '')[:12]}"
    status = e.status.value + (f" ({e.ended_reason.value})" if e.ended_reason else "")
    return (
        str(e.id),
        e.case_number,
        what,
        status,
        e.requested_by,
        e.approved_by or "-",
        e.expires_at or "-",
    )


def _alerts_table(alerts: list[AlertRecord]) -> Table:
    table = Table(
        title="watchlist alerts",
        caption="Investigative leads, not identifications: verify every alert independently.",
    )
    for col in ("alert", "case", "entry", "face", "score", "threshold", "raised", "webhook"):
        table.add_column(col)
    for a in alerts:
        table.add_row(
            str(a.id),
            a.case_number,
            str(a.entry_id),
            str(a.face_id),
            f"{a.score:.3f}",
            f"{a.threshold:.3f}",
            a.raised_at,
            a.delivery.value,
        )
    return table


@watchlist_app.command("alerts")
def alerts(
    case: CaseFilter = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 200,
    by: ByOption = None,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Alerts of the cases you may read, newest first."""
    with _desk(atlas, by) as (desk, user):
        found = desk.alerts(user, case, limit)
    if as_json:
        print_json({"alerts": [a.as_dict() for a in found]})
    else:
        console.print(_alerts_table(found))


@watchlist_app.command("deliver")
def deliver(by: ByOption = None, atlas: AtlasOption = None) -> None:
    """Retry the webhook deliveries still pending, and wait for them."""
    with _desk(atlas, by) as (desk, user):
        pending = desk.deliver(user)
        desk.watch.webhook.join()
    console.print(f"{pending} pending alert(s) retried", markup=False, highlight=False)


@watchlist_app.command("purge")
def purge(atlas: AtlasOption = None) -> None:
    """End every expired entry and every entry of a closed case, purging their embeddings."""
    with _desk(atlas, None) as (desk, _user):
        ended = desk.sweep()
    console.print(f"{ended} entr{'y' if ended == 1 else 'ies'} ended and purged", highlight=False)


def register(app: CliApp) -> None:
    app.add_typer(watchlist_app, name="watchlist")
