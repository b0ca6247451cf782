"""Core commands: ingest, search, reindex, stats, all through :mod:`faceatlas.services`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from faceatlas.choices import SourceKind  # an option's choices: Typer needs them at import
from faceatlas.cli.common import (
    AtlasOption,
    CaseOption,
    CliApp,
    DetectorOption,
    JsonOption,
    PurposeOption,
    Table,
    UpsampleOption,
    atlas_service,
    console,
    err_console,
    open_service,
    operator,
    print_json,
    read_files,
    search_request,
    settings_for,
)
from faceatlas.cli.options import threshold_option, top_k_option
from faceatlas.cli.web import RayOption, SummaryOption, print_report, write_summary
from faceatlas.errors import ERROR_STATUS, NoFaceError

if TYPE_CHECKING:
    from faceatlas.ingest import IngestProgress, IngestReport
    from faceatlas.search import SearchResult
    from faceatlas.search.fairness import FpirEstimate
    from faceatlas.services import SearchOutcome
    from faceatlas.store.records import SightingRecord

__all__ = ["ThresholdOption", "TopKOption", "print_leads", "register", "show_faces", "show_outcome"]

TopKOption = Annotated[int | None, top_k_option("Results to return.")]
ThresholdOption = Annotated[
    float | None,
    threshold_option("Minimum similarity; below the calibrated default returns weaker leads."),
]


def _read_photo(photo: Path) -> bytes:
    return read_files([photo])[0]


def failed_run_exit_code(report: IngestReport) -> int:
    """0 unless every item of the run failed (nothing new, nothing already there): then the
    exit code of the most frequent failure's error code (e.g. 3 for an unreadable image,
    10 for a fetch error). A run that adds nothing because everything is already stored is 0."""
    failed = report.counts["failed"]
    if not failed or failed < report.counts["items"]:
        return 0
    codes = Counter(
        {k.removeprefix("failed:"): v for k, v in report.counts.items() if k.startswith("failed:")}
    )
    code = codes.most_common(1)[0][0] if codes else "internal_error"
    return ERROR_STATUS.get(code, ERROR_STATUS["internal_error"])[1]


def ingest(
    path: Annotated[
        Path,
        typer.Argument(help="Folder (walked recursively), image file, WARC(.gz) or URL list."),
    ],
    atlas: AtlasOption = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, max=64, help="Worker processes.")
    ] = None,
    detector: DetectorOption = None,
    upsample: UpsampleOption = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    kind: Annotated[
        SourceKind, typer.Option("--kind", help="What PATH is; auto decides by its name.")
    ] = SourceKind.AUTO,
    ray: RayOption = None,
    summary: SummaryOption = None,
) -> None:
    """Index every image under PATH. Reruns resume and add nothing twice."""
    settings = settings_for(atlas, detector=detector, upsample=upsample, workers=workers)
    with open_service(settings) as service:
        if quiet or as_json:
            report = service.collection.ingest(path, kind=kind, ray_address=ray)
        else:
            columns = (
                TextColumn("[bold]ingest"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]} img/s, {task.fields[faces]} faces"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=err_console, transient=False) as bar:
                task = bar.add_task("ingest", total=None, rate="0.0", faces=0)

                def on_progress(p: IngestProgress) -> None:
                    elapsed = bar.tasks[task].elapsed or 0.0
                    rate = f"{p.done / elapsed:.1f}" if elapsed > 0 else "0.0"
                    bar.update(task, completed=p.done, total=p.total, rate=rate, faces=p.faces)

                report = service.collection.ingest(
                    path, progress=on_progress, kind=kind, ray_address=ray
                )
    write_summary(summary, report)
    exit_code = failed_run_exit_code(report)
    if as_json:
        print_json(report.as_dict())
    else:
        rates = f"{report.images_per_s:.2f} images/s, {report.faces_per_s:.2f} faces/s"
        print_report(report, f"ingest {report.source}", rates)
        if len(report.failures) > 20:
            err_console.print(
                f"... and {len(report.failures) - 20} more failures (see `faceatlas stats`)"
            )
        if exit_code:
            err_console.print(
                f"nothing ingested: every item failed ({report.counts['failed']})", highlight=False
            )
    if exit_code:
        raise typer.Exit(exit_code)


def _faces_table(faces: list[dict[str, Any]]) -> Table:
    """The faces of a photo (as ``ProbeFace.as_dict`` and the API give them)."""
    table = Table(title="faces in the photo")
    for col in ("face", "left", "top", "right", "bottom", "size px", "frontal", "sharpness"):
        table.add_column(col, justify="right")
    for f in faces:
        b, q = f["box"], f["quality"]
        table.add_row(
            str(f["index"]),
            *(str(b[side]) for side in ("left", "top", "right", "bottom")),
            str(q["box_px"]),
            f"{q['frontal']:.2f}",
            f"{q['sharpness']:.0f}",
        )
    return table


def _where(s: SightingRecord) -> str:
    """One sighting: the page (with its title and the image's alt text) and the image."""
    if not s.page_url:
        return s.locator
    about = " | ".join(x for x in (s.page_title, s.alt_text) if x)
    return f"{s.page_url} ({about}) {s.locator}" if about else f"{s.page_url} {s.locator}"


def _fpir(e: FpirEstimate | None) -> str:
    if e is None:
        return "-"
    return f"{e.fpir:.2g} [{e.fpir_lower:.2g}, {e.fpir_upper:.2g}]"


def fpir_line(result: SearchResult) -> str:
    """What the threshold means for a stranger's search at this atlas's size."""
    if result.threshold_fpir is None:
        return ""
    return (
        f"{result.gallery_size:,} faces searched; a search of someone not among them returns a "
        f"candidate at this threshold with probability {_fpir(result.threshold_fpir)} (FPIR)"
    )


def _results_table(result: SearchResult, probe: str = "face") -> Table:
    """The leads of ``result`` (a video face's time span before where it was found)."""
    table = Table(
        title=f"leads for {probe} {result.selected} (threshold {result.threshold:.3f}, {result.threshold_source})",
        caption="Investigative leads, not identifications: verify every result independently.",
    )
    columns = ["rank", "similarity"]
    if result.fair_scoring:
        columns += ["fair score", "stranger scores this high (FPIR)"]
    for col in (*columns, "face", "box", "found at"):
        table.add_column(col)
    for h in result.hits:
        b = h.box
        where = "\n".join(_where(s) for s in h.sightings) or "-"
        if h.span is not None:
            where = f"[{h.span.start_s:.1f}-{h.span.end_s:.1f} s] {where}"
        fair = [f"{h.decision_score:.3f}", _fpir(h.estimated_fpir)] if result.fair_scoring else []
        table.add_row(
            str(h.rank),
            f"{h.similarity:.3f}",
            *fair,
            str(h.face_id),
            f"{b.left},{b.top},{b.right},{b.bottom}",
            where,
        )
    return table


def search(
    photo: Annotated[Path, typer.Argument(help="Probe photo.")],
    atlas: AtlasOption = None,
    face: Annotated[
        int | None,
        typer.Option(
            "--face", "-f", min=0, help="Which face (see --list-faces); default the largest."
        ),
    ] = None,
    list_faces: Annotated[
        bool, typer.Option("--list-faces", help="Only list the faces in the photo.")
    ] = False,
    top_k: TopKOption = None,
    threshold: ThresholdOption = None,
    case: CaseOption = None,
    purpose: PurposeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find stored faces similar to a face in PHOTO: an accountable search, like the web's
    and the API's. It needs --case and --purpose and is audited (interface "cli"; "api" when
    FACEATLAS_SERVER_URL sends it to a running server, which has the model loaded)."""
    from faceatlas.cli.remote import configured_server, show_remote_result

    server = configured_server(atlas)
    if server is not None:
        fields = {"case_number": case or "", "purpose": purpose or ""}
        fields |= {k: str(v) for k, v in (("face", face), ("top_k", top_k)) if v is not None}
        if threshold is not None:
            fields["threshold"] = str(threshold)
        if list_faces:
            show_faces(server.post_photo("/faces/detect", _read_photo(photo), {})["faces"], as_json)
            return
        show_remote_result(server.post_photo("/search", _read_photo(photo), fields), as_json)
        return
    with atlas_service(atlas) as service:
        if list_faces:
            show_faces([f.as_dict() for f in service.detect(_read_photo(photo))], as_json)
            return
        request = search_request(service, case, purpose, face, top_k, threshold)
        outcome = service.search(operator(), _read_photo(photo), request)
    show_outcome(outcome, as_json)


def show_faces(faces: list[dict[str, Any]], as_json: bool) -> None:
    """The faces found in a photo, numbered as ``--face`` takes them."""
    if not faces:
        raise NoFaceError("no face found in the photo")
    if as_json:
        print_json({"faces": faces})
    else:
        console.print(_faces_table(faces))


def show_outcome(outcome: SearchOutcome, as_json: bool) -> None:
    """A search's leads: its JSON with ``--json``, else tables (the probe's faces when it has
    several, the leads) and the false-candidate rate at this threshold."""
    result = outcome.result
    if as_json:
        print_json(outcome.as_dict())
        return
    if len(result.probe_faces) > 1:
        console.print(_faces_table([f.as_dict() for f in result.probe_faces]))
    print_leads(result)


def print_leads(result: SearchResult, probe: str = "face") -> None:
    """A search's leads as a table (or that none reaches the threshold), the probe quality
    gate's warnings on stderr, and what the threshold means for a stranger's search."""
    for reason in result.probe_quality.reasons:
        err_console.print(f"warning: {reason}; leads are weaker than usual")
    if result.hits:
        console.print(_results_table(result, probe))
    else:
        console.print(f"no stored face reaches the threshold {result.threshold:.3f}")
    if result.threshold_fpir is not None:
        console.print(fpir_line(result), style="dim")


def reindex(atlas: AtlasOption = None) -> None:
    """Rebuild the vector index from the catalog."""
    with atlas_service(atlas) as service:
        count = service.collection.reindex()
    console.print(f"index rebuilt with {count} vectors")


def stats(atlas: AtlasOption = None, as_json: JsonOption = False) -> None:
    """Counts of what the atlas holds, and recent ingest failures."""
    from faceatlas.services.inventory import atlas_inventory

    data = atlas_inventory(settings_for(atlas))
    if as_json:
        print_json(data)
        return
    table = Table(title=f"atlas {data['atlas']} ({data['model_id']})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in data["catalog"].items():
        table.add_row(key, str(value))
    table.add_row("index vectors", str(data["index"]["count"]))
    console.print(table)
    console.print(f"threshold {data['threshold']['value']:.3f} ({data['threshold']['source']})")
    for f in data["failures"]:
        console.print(
            f"failed [{f['code']}] {f['locator']}: {f['message']}", markup=False, highlight=False
        )


def register(app: CliApp) -> None:
    app.command()(ingest)
    app.command()(search)
    app.command()(reindex)
    app.command()(stats)
