"""Web ingestion commands: ``faceatlas crawl``, and options shared with ``ingest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from faceatlas.cli.common import (
    AtlasOption,
    CliApp,
    JsonOption,
    Table,
    console,
    err_console,
    open_service,
    print_json,
    settings_for,
)
from faceatlas.errors import InvalidRequestError

if TYPE_CHECKING:
    from faceatlas.ingest import IngestProgress, IngestReport

__all__ = ["RayOption", "SummaryOption", "print_report", "register", "write_summary"]

RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="Run the analysis on Ray at this address (local, auto, ray://head:10001); "
        "needs the ray extra.",
    ),
]
SummaryOption = Annotated[
    Path | None, typer.Option("--summary", help="Write the run's JSON summary to this file.")
]


def write_summary(path: Path | None, report: IngestReport) -> None:
    if path is None:
        return
    try:
        path.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidRequestError(f"cannot write {path}: {exc.strerror or exc}") from None


def print_report(report: IngestReport, title: str, rates: str) -> None:
    """An ingest or crawl report: its outcome counts under ``title``, the time it took with
    ``rates``, and its first 20 failures."""
    table = Table(title=title, show_header=True)
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for key, value in sorted(report.counts.items()):
        table.add_row(key, str(value))
    console.print(table)
    console.print(f"{report.elapsed_s:.1f} s, {rates}")
    for locator, code, message in report.failures[:20]:
        err_console.print(f"failed [{code}] {locator}: {message}", markup=False, highlight=False)


def crawl(
    seed: Annotated[list[str], typer.Option("--seed", help="Start URL (repeatable).")],
    allow_domain: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-domain", help="Host allowed, with its subdomains (repeatable; required)."
        ),
    ] = None,
    atlas: AtlasOption = None,
    max_depth: Annotated[int, typer.Option("--max-depth", min=0, help="Links from a seed.")] = 2,
    max_pages: Annotated[int, typer.Option("--max-pages", min=1, help="Pages to visit.")] = 100,
    per_host: Annotated[
        int | None, typer.Option("--per-host", min=1, max=16, help="Requests in flight per host.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, max=64, help="Analysis processes.")
    ] = None,
    ray: RayOption = None,
    summary: SummaryOption = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Crawl politely from SEED within the allowlist and index the faces found.

    Obeys robots.txt (with Crawl-delay), never leaves the allowlist, never submits a
    form or logs in. The frontier is kept in the atlas: rerun the same command to resume.
    """
    from faceatlas.ingest import CrawlOptions

    if not allow_domain:
        raise InvalidRequestError("refusing to crawl without an allowlist: give --allow-domain")
    options = CrawlOptions(
        seeds=tuple(seed),
        allow_domains=tuple(allow_domain),
        max_depth=max_depth,
        max_pages=max_pages,
    )
    settings = settings_for(atlas, workers=workers, crawl_per_host=per_host)
    with open_service(settings) as service:
        if quiet or as_json:
            report = service.collection.crawl(options, ray_address=ray)
        else:
            columns = (
                SpinnerColumn(),
                TextColumn("[bold]crawl[/] {task.completed} images"),
                TextColumn("{task.fields[rate]} img/s, {task.fields[faces]} faces"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err_console) as bar:
                task = bar.add_task("crawl", total=None, rate="0.0", faces=0)

                def on_progress(p: IngestProgress) -> None:
                    bar.update(task, completed=p.done, rate=f"{p.rate:.1f}", faces=p.faces)

                report = service.collection.crawl(options, progress=on_progress, ray_address=ray)
    write_summary(summary, report)
    if as_json:
        print_json(report.as_dict())
    else:
        print_report(report, report.source, f"{report.images_per_s:.2f} items/s")


def register(app: CliApp) -> None:
    app.command()(crawl)
