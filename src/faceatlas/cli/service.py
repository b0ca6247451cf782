"""``faceatlas serve``, user administration and the audit log commands."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from faceatlas.accounts import Role  # an option's choices: Typer needs it at import
from faceatlas.choices import LogFormat
from faceatlas.cli.common import (
    AtlasOption,
    CliApp,
    JsonOption,
    Table,
    atlas_service,
    console,
    err_console,
    open_service,
    operator,
    print_json,
    settings_for,
)
from faceatlas.errors import AuditIntegrityError, InvalidRequestError

__all__ = ["next_step", "register"]

users_app = CliApp(help="Manage users (admin, supervisor, investigator).")
audit_app = CliApp(help="Verify and export the hash-chained audit log.")


def _show_password(username: str, password: str) -> None:
    err_console.print(
        f"One-time password for [bold]{username}[/bold]: [bold]{password}[/bold]\n"
        "It is shown once, and must be changed at first sign-in.",
        highlight=False,
    )


def next_step(url: str, new_admin: str | None, empty: bool) -> str:
    """What to do once the server runs, one numbered step a line: open it, sign in (with
    the one-time password just printed, for a new admin), add photos while the atlas is
    empty, then search."""
    steps = [f"open {url} in a browser"]
    if new_admin is not None:
        steps.append(
            f"sign in as {new_admin} with the one-time password above, then choose your own"
        )
    if empty:
        steps.append(f"add photos at {url}ingest/upload (a zip of a folder of photos will do)")
    steps.append(f"search at {url}search")
    return "Next:\n" + "\n".join(f"  {n}. {step}" for n, step in enumerate(steps, 1))


def serve(
    atlas: AtlasOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    admin: Annotated[
        str, typer.Option("--admin", help="Name of the first admin, created when there is none.")
    ] = "admin",
    log_level: Annotated[str, typer.Option("--log-level", help="Server log level.")] = "info",
) -> None:
    """Serve the REST API and the web app on the atlas.

    On first run (no users yet) an admin is created and its one-time password
    printed; there are no default credentials.
    """
    import uvicorn

    from faceatlas.server import create_app, server_config
    from faceatlas.services.logs import configure_logging

    settings = settings_for(atlas)
    configure_logging(settings.log_format, log_level)
    with open_service(settings) as service:
        at = service.atlas
        password = at.accounts.bootstrap_admin(admin)
        if password is not None:
            service.record(operator(), "admin_bootstrapped", user=admin)
            _show_password(admin, password)
        app = create_app(settings, atlas=at)
        url = f"http://{host}:{port}/"
        if settings.log_format is LogFormat.JSON:
            logging.getLogger(__name__).info("serving %s on %s", at.root, url)
        else:
            err_console.print(f"serving {at.root} on {url}", highlight=False)
            steps = next_step(url, admin if password else None, service.health()[1] == 0)
            err_console.print(steps, highlight=False, soft_wrap=True)
        uvicorn.Server(server_config(app, host, port, log_level)).run()


@users_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="User name.")] = "admin",
    atlas: AtlasOption = None,
) -> None:
    """Create an admin with a printed one-time password."""
    _add(username, Role.ADMIN, "", atlas)


@users_app.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[Role, typer.Option("--role", help="investigator, supervisor or admin.")],
    unit: Annotated[str, typer.Option("--unit", help="Unit (supervisors review theirs).")] = "",
    atlas: AtlasOption = None,
) -> None:
    """Create a user with a printed one-time password."""
    _add(username, role, unit, atlas)


def _add(username: str, role: Role, unit: str, atlas: Path | None) -> None:
    with atlas_service(atlas) as service:
        user, password = service.accounts.create_user(operator(), username, role, unit)
    _show_password(user.username, password)


@users_app.command("list")
def list_users(atlas: AtlasOption = None, as_json: JsonOption = False) -> None:
    """List users."""
    with atlas_service(atlas) as service:
        users = service.accounts.list_users()
    if as_json:
        print_json(
            [
                {"username": u.username, "role": u.role.value, "unit": u.unit, "active": u.active}
                for u in users
            ]
        )
        return
    table = Table(title="users")
    for col in ("user", "role", "unit", "active"):
        table.add_column(col)
    for u in users:
        table.add_row(u.username, u.role.value, u.unit, "yes" if u.active else "no")
    console.print(table)


@users_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="User name.")], atlas: AtlasOption = None
) -> None:
    """Give a user a new one-time password (revokes their sessions and tokens)."""
    with atlas_service(atlas) as service:
        target = service.accounts.by_name(username)
        user, password = service.accounts.reset_password(operator(), target.id)
    _show_password(user.username, password)


AnchorFileOption = Annotated[
    Path | None,
    typer.Option("--anchor", help="Anchor file written by `faceatlas audit anchor`."),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option("--public-key", help="The anchor key's public half (KEY.pub)."),
]


@audit_app.command("verify")
def verify(
    atlas: AtlasOption = None,
    anchor: AnchorFileOption = None,
    public_key: PublicKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chain; name every edited or deleted entry; with --anchor, check the
    log against every signed anchor (cut short, wiped or rewritten). Exit 24 if anything."""
    from faceatlas.audit.anchor import check_anchors, load_public_key, read_anchors

    if (anchor is None) != (public_key is None):
        raise InvalidRequestError("--anchor and --public-key go together")
    with atlas_service(atlas) as service:
        report = service.review.verify()
        anchored = []
        if anchor is not None and public_key is not None:
            anchors = read_anchors(anchor)
            hashes = service.atlas.audit.entry_hashes([a.seq for a in anchors])
            anchored = check_anchors(anchors, load_public_key(public_key), hashes)
    ok = report.ok and not anchored
    if as_json:
        print_json(
            {
                **report.as_dict(),
                "ok": ok,
                "anchor_problems": [
                    {"line": p.line, "seq": p.seq, "message": p.message} for p in anchored
                ],
            }
        )
    elif ok:
        extra = f"; agrees with every anchor in {anchor}" if anchor is not None else ""
        console.print(f"audit log OK: {report.entries} entries, head #{report.head_seq}{extra}")
    else:
        for p in report.problems:
            typer.echo(f"entry {p.seq}: {p.kind}: {p.message}")
        for a in anchored:
            typer.echo(f"anchor line {a.line} (entry {a.seq}): {a.message}")
    if not ok:
        raise AuditIntegrityError(
            f"audit log does not verify: {len(report.problems) + len(anchored)} problem(s) in "
            f"{report.entries} entries"
        )


@audit_app.command("keygen")
def keygen(
    key: Annotated[Path, typer.Argument(help="Where to write the private key (0600).")],
    atlas: AtlasOption = None,
) -> None:
    """Make the Ed25519 key that signs anchors; it must live outside the atlas folder."""
    from faceatlas.audit.anchor import generate_key

    public = generate_key(key, settings_for(atlas).atlas_dir)
    console.print(f"private key {key} (keep it away from the atlas); public key {public}")


@audit_app.command("anchor")
def anchor_now(
    key: Annotated[Path, typer.Option("--key", help="The private key from `audit keygen`.")],
    to: Annotated[Path, typer.Option("--to", help="Anchor file to append to (kept elsewhere).")],
    atlas: AtlasOption = None,
) -> None:
    """Append a signed statement of the log's head to an anchor file outside the atlas.

    Run it on demand and periodically (from cron, say); the log must verify first."""
    from faceatlas.audit.anchor import load_private_key, sign_anchor

    settings = settings_for(atlas)
    signer = load_private_key(key, settings.atlas_dir)
    with open_service(settings) as service:
        report = service.review.verify()
        if not report.ok:
            raise AuditIntegrityError("the audit log does not verify; it is not anchored")
        last = service.atlas.audit.last_entry()
    if last is None:
        raise InvalidRequestError("the audit log is empty; there is nothing to anchor")
    signed = sign_anchor(signer, *last)
    to.parent.mkdir(parents=True, exist_ok=True)
    with to.open("a", encoding="utf-8") as f:
        f.write(signed.line() + "\n")
    console.print(f"anchored entry {signed.seq} ({signed.hash[:16]}...) in {to}")


@audit_app.command("export")
def export(
    out: Annotated[
        Path, typer.Argument(help="Output folder; writes audit.csv and audit.json there.")
    ],
    atlas: AtlasOption = None,
) -> None:
    """Export every audit entry, with its hashes, as CSV and JSON."""
    from faceatlas.audit.export import export_csv, export_json

    if out.exists() and not out.is_dir():
        raise InvalidRequestError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    with atlas_service(atlas) as service:
        (out / "audit.csv").write_text(export_csv(service.atlas.audit))
        (out / "audit.json").write_text(export_json(service.atlas.audit))
        report = service.review.verify()
    status = "verifies" if report.ok else f"DOES NOT VERIFY ({len(report.problems)} problems)"
    console.print(
        f"wrote {out / 'audit.csv'} and {out / 'audit.json'}: {report.entries} entries, "
        f"chain {status}",
        highlight=False,
    )


def register(app: CliApp) -> None:
    app.command()(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
