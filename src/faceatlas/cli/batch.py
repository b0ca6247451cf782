"""Batch and group-photo search commands: ``search-batch`` (a folder or zip of probes, with
progress and a combined report) and ``search-group`` (every face of one photo). Both are
accountable searches through the same services as the web and the API: ``--case`` and
``--purpose`` are required and every probe (every face) is audited on its own."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from faceatlas.cli.common import (
    AtlasOption,
    CaseOption,
    CliApp,
    JsonOption,
    PurposeOption,
    Table,
    atlas_service,
    console,
    err_console,
    operator,
    print_json,
    read_files,
    search_request,
)
from faceatlas.cli.options import top_k_option
from faceatlas.errors import ERROR_STATUS

if TYPE_CHECKING:
    from faceatlas.services.batch_report import BatchReport
    from faceatlas.services.group import GroupOutcome

__all__ = ["register"]

TopKOption = Annotated[int | None, top_k_option("Candidates per probe (face).")]


def _failed_exit_code(report: BatchReport) -> int:
    """0 unless every probe failed: then the exit code of the most frequent error."""
    if report.searched or not report.items:
        return 0
    codes = Counter(i.error_code or "internal_error" for i in report.items)
    return ERROR_STATUS.get(codes.most_common(1)[0][0], ERROR_STATUS["internal_error"])[1]


def _batch_table(report: BatchReport) -> Table:
    table = Table(
        title=f"batch {report.ref}: {report.searched} searched, {report.failed} failed "
        f"(case {report.case_number})",
        caption="Investigative leads, not identifications: verify every result independently.",
    )
    for col in ("item", "probe", "outcome", "best lead", "leads"):
        table.add_column(col)
    for i in report.items:
        best = "-"
        if i.hits:
            h = i.hits[0]
            score = h.similarity if h.score is None else h.score
            best = f"face {h.face_id} {score:.3f} ({h.band}) {' | '.join(h.found_at[:1])}"
        outcome = (
            f"search #{i.search_id}" if i.status == "searched" else f"{i.error_code}: {i.error}"
        )
        table.add_row(str(i.item), i.name, outcome, best, str(len(i.hits)))
    return table


def search_batch(
    source: Annotated[Path, typer.Argument(help="A folder of probe photos, or a zip of them.")],
    case: CaseOption = None,
    purpose: PurposeOption = None,
    top_k: TopKOption = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the report as CSV (a row per lead).")
    ] = None,
    report_out: Annotated[
        Path | None, typer.Option("--report", help="Write the report as JSON.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search with every photo in a folder or zip: one audited search per probe under
    --case and --purpose, and one combined report (a table, --json, --csv, --report).
    Bad probes are reported per item; the batch goes on."""
    from faceatlas.services.batch import BatchDesk
    from faceatlas.services.batch_probes import probes_from_path
    from faceatlas.services.batch_report import report_csv

    with atlas_service(atlas) as service:
        request = search_request(service, case, purpose, top_k=top_k)
        probes = probes_from_path(source, service.settings)
        desk = BatchDesk(service)
        if quiet or as_json:
            report = desk.run(operator(), probes, request)
        else:
            columns = (
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err_console) as bar:
                task = bar.add_task("batch", total=len(probes), failed=0)
                report = desk.run(
                    operator(),
                    probes,
                    request,
                    lambda done, failed: bar.update(task, completed=done, failed=failed),
                )
    data: dict[str, Any] = report.as_dict()
    if csv_out is not None:
        csv_out.write_text(report_csv(data), encoding="utf-8")
    if report_out is not None:
        import json

        report_out.write_text(json.dumps(data, indent=2), encoding="utf-8")
    if as_json:
        print_json(data)
    else:
        console.print(_batch_table(report))
    exit_code = _failed_exit_code(report)
    if exit_code:
        raise typer.Exit(exit_code)


def _group_table(outcome: GroupOutcome) -> Table:
    table = Table(
        title=f"{outcome.faces_found} face(s) found, {outcome.skipped} not searched "
        f"(at most {outcome.max_faces})",
        caption="Investigative leads, not identifications: verify every result independently.",
    )
    for col in ("face", "box", "search", "rank", "score", "stored face", "found at"):
        table.add_column(col)
    for f in outcome.faces:
        b = f.face.box
        box = f"{b.left},{b.top},{b.right},{b.bottom}"
        if f.outcome is None:
            table.add_row(str(f.face.index), box, f"not searched: {f.refused}", "", "", "", "")
            continue
        hits = f.outcome.result.hits or ()
        seq = f"#{f.outcome.audit.seq}"
        if not hits:
            table.add_row(str(f.face.index), box, seq, "-", "no lead", "", "")
        for h in hits:
            where = h.sightings[0].page_url or h.sightings[0].locator if h.sightings else "-"
            table.add_row(
                str(f.face.index),
                box,
                seq,
                str(h.rank),
                f"{h.decision_score:.3f}",
                str(h.face_id),
                where,
            )
    return table


def search_group(
    photo: Annotated[Path, typer.Argument(help="A photo of several people.")],
    case: CaseOption = None,
    purpose: PurposeOption = None,
    top_k: TopKOption = None,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search with every face of PHOTO (largest first, numbered from 0): each face gets its
    own candidates and its own audited search under --case and --purpose."""
    from faceatlas.services.group import GroupDesk

    with atlas_service(atlas) as service:
        request = search_request(service, case, purpose, top_k=top_k)
        outcome = GroupDesk(service).search(operator(), read_files([photo])[0], request)
    if as_json:
        print_json(outcome.as_dict())
    else:
        console.print(_group_table(outcome))


def register(app: CliApp) -> None:
    app.command("search-batch")(search_batch)
    app.command("search-group")(search_group)
