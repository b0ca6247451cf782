"""The ``faceatlas`` command line. Each module registers its own commands.

The root group loads a command's module only when that command runs (or shows its own
help): ``faceatlas --help`` and ``import faceatlas.cli`` import none of the engine, the
catalog or the evaluation code. The top-level help lists each command's first help line
from :data:`COMMANDS` (a test pins it to the commands' own help).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer import _click as click  # the Click that Typer 0.29 vendors and builds on
from typer.core import TyperCommand, TyperGroup

from faceatlas.cli.common import CliApp

__all__ = ["COMMANDS", "app", "full_app", "main"]

HELP = "Self-hosted face search: results are investigative leads, never identifications."

COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "ingest": (("core",), "Index every image under PATH."),
    "search": (
        ("core",),
        "Find stored faces similar to a face in PHOTO: an accountable search, like the web's "
        "and the API's.",
    ),
    "search-video": (
        ("video",),
        "Find stored faces similar to a face track of a video CLIP: an accountable search, like "
        "the web's and the API's, scored by the mean over the track's best frames.",
    ),
    "shell": (
        ("core", "shell"),
        "Search many probes with the model loaded once: photo paths (optionally followed by a "
        "face number) one a line on standard input, each search audited like `faceatlas "
        "search`.",
    ),
    "reindex": (("core",), "Rebuild the vector index from the catalog."),
    "stats": (("core",), "Counts of what the atlas holds, and recent ingest failures."),
    "models": (
        ("models",),
        "Show the face engine, its model and the execution providers it runs on.",
    ),
    "reembed": (("models",), "Embed every face with ENGINE's model and make it the atlas's model."),
    "crawl": (("web",), "Crawl politely from SEED within the allowlist and index the faces found."),
    "serve": (("service",), "Serve the REST API and the web app on the atlas."),
    "calibrate": (
        ("lab",),
        "Estimate the score-to-FMR mapping and store it, with its threshold, in the atlas.",
    ),
    "eval": (("evaluate", "lab", "fairness"), "Measure accuracy on labelled datasets."),
    "identities": (("identities",), "People: faces clustered into identities, curated by hand."),
    "users": (("service",), "Manage users (admin, supervisor, investigator)."),
    "audit": (("service",), "Verify and export the hash-chained audit log."),
    "optout": (("privacy",), "Opt-out by face: requests, decisions, receipts."),
    "erase": (("privacy",), "Erase faces, images, source URLs or a whole domain."),
    "access": (("privacy",), "Subject access exports (administrator-mediated)."),
    "retention": (("privacy",), "Retention of thumbnails, probes and log entries."),
    "privacy": (("privacy",), "Privacy status and the privacy action log."),
    "cases": (("cases",), "Cases: members, examiner decisions, verification, reports."),
    "backup": (
        ("ops",),
        "Back up a live atlas into DEST: a consistent snapshot, with a manifest of hashes.",
    ),
    "restore": (
        ("ops",),
        "Restore the atlas from a backup; erasures made since its snapshot are replayed.",
    ),
    "search-batch": (
        ("batch",),
        "Search with every photo in a folder or zip: one audited search per probe under "
        "--case and --purpose, and one combined report (a table, --json, --csv, --report).",
    ),
    "search-group": (
        ("batch",),
        "Search with every face of PHOTO (largest first, numbered from 0): each face gets its "
        "own candidates and its own audited search under --case and --purpose.",
    ),
    "watchlist": (("watchlists",), "Case-bound watchlists: entries, approvals, alerts."),
}
"""Each top-level command: the ``faceatlas.cli`` modules whose ``register`` defines it, and
its first help line."""

_ORDER = ("core", "evaluate", "identities", "models", "web", "service", "lab", "fairness")
_ORDER_REST = ("privacy", "cases", "ops", "batch", "video", "watchlists", "shell")


def _register(app: CliApp, modules: tuple[str, ...]) -> None:
    for name in modules:
        importlib.import_module(f"faceatlas.cli.{name}").register(app)


def full_app() -> CliApp:
    """Every command registered at once (imports every command module): for tools and tests
    that walk the whole command tree."""
    app = CliApp(name="faceatlas", help=HELP, pretty_exceptions_enable=False, add_completion=False)
    _register(app, _ORDER + _ORDER_REST)
    return app


class LazyGroup(TyperGroup):
    """A root group that imports a command's module on first use."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loaded = CliApp(add_completion=False)
        self._modules: set[str] = set()
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        modules, short_help = entry
        if self._listing:
            return TyperCommand(cmd_name, help=short_help, short_help=short_help)
        if cmd_name not in self.commands:
            _register(self._loaded, tuple(m for m in modules if m not in self._modules))
            self._modules.update(modules)
            group = typer.main.get_group(self._loaded)
            self.commands[cmd_name] = group.commands[cmd_name]
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = CliApp(
    name="faceatlas",
    help=HELP,
    cls=LazyGroup,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """The root group has no options of its own; its commands load on use."""


def main() -> None:
    app()
