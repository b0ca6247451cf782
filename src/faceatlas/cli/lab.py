"""``faceatlas eval run|verify|identify|demographics|audit|show`` and ``faceatlas calibrate``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import TaskID

from faceatlas.cli.common import (
    AtlasOption,
    CliApp,
    JsonOption,
    Table,
    atlas_service,
    console,
    err_console,
    open_service,
    print_json,
    progress_bar,
    settings_for,
)
from faceatlas.cli.evaluate import eval_app
from faceatlas.cli.lab_tables import demographics_table, group_search_table
from faceatlas.errors import NotFoundError
from faceatlas.eval.lab import Scoring, Suite  # option choices and command names, at import

if TYPE_CHECKING:
    from faceatlas.eval.calibration import Calibration

__all__ = ["register"]

LfwOption = Annotated[Path, typer.Option("--lfw", help="LFW folder (images/, pairs.txt, labels/).")]
UtkOption = Annotated[
    Path | None, typer.Option("--utkface", help="UTKFace crops folder (labels in file names).")
]
DistractorOption = Annotated[
    list[Path] | None,
    typer.Option("--distractors", help="Folder of photos of other people; repeatable."),
]
TargetOption = Annotated[
    float | None,
    typer.Option(
        "--target-fmr",
        min=1e-9,
        max=0.5,
        help="False-match rate the threshold aims at [env FACEATLAS_CALIBRATION_TARGET_FMR, 1e-5].",
    ),
]
LaxOption = Annotated[
    float | None,
    typer.Option(
        "--lax-similarity",
        min=-1.0,
        max=1.0,
        help="The lax setting audited (default: 0.80, 0.363 for SFace; see docs/evaluation.md).",
    ),
]
MaxPeopleOption = Annotated[
    int | None,
    typer.Option("--max-people", min=10, help="Small real subset: first N LFW people and so on."),
]
WorkersOption = Annotated[int, typer.Option("--workers", "-w", min=1, max=64)]
CacheOption = Annotated[
    Path | None, typer.Option("--cache-dir", help="Embedding cache [env FACEATLAS_CACHE_DIR].")
]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Report folder.")]
ScoringOption = Annotated[
    Scoring | None,
    typer.Option(
        "--scoring",
        help="fair: the shipped fair score and threshold, as a fresh atlas uses them; "
        "raw: cosine similarity with a threshold calibrated in the run. Default: as a fresh "
        "atlas of the engine does (fair where a scorer ships for it).",
    ),
]
StoredOption = Annotated[
    Path | None,
    typer.Option("--calibration-from", help="Use this atlas's stored calibration instead."),
]


def _stored_calibration(atlas_dir: Path | None) -> Calibration | None:
    from faceatlas.eval.calibration import Calibration

    if atlas_dir is None:
        return None
    with atlas_service(atlas_dir) as service:
        record = service.collection.calibration()
    if record is None:
        raise NotFoundError(f"the atlas at {atlas_dir} has no calibration; run faceatlas calibrate")
    return Calibration.from_record(record)


@contextmanager
def lab_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback for :func:`run_lab`: one bar per step it names, on stderr."""
    with progress_bar("[bold]embedding {task.description}", quiet=quiet) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        yield progress


def _run(suites: tuple[Suite, ...], *, out: Path, as_json: bool, **kw: Any) -> None:
    from faceatlas.engine import EngineSpec
    from faceatlas.eval.lab import LabOptions, run_lab
    from faceatlas.eval.report import load_report, write_report

    stored = _stored_calibration(kw.pop("calibration_from"))
    options = LabOptions(
        suites=suites, calibration=stored, distractor_dirs=tuple(kw.pop("distractors") or ()), **kw
    )
    spec = EngineSpec.from_settings(settings_for(None))
    with lab_progress(as_json) as progress:
        result = run_lab(options, spec, progress)
    html = write_report(result, out)
    if as_json:
        print_json(load_report(out))
        return
    _show(load_report(out))
    console.print(f"report: {html}")


def _show(data: dict[str, Any]) -> None:
    from faceatlas.eval.report import fmt_rate

    cal = data["calibration"]
    console.print(
        f"[bold]calibration[/bold] target FMR {cal['target_fmr']:g} -> threshold "
        f"{cal['threshold']:.4f}; observed {fmt_rate(cal['fmr_at_threshold'])} ({cal['source']})"
    )
    v = data.get("verify")
    if v:
        t = Table(title="verification (LFW View 2)")
        for col in ("impostors", "target FMR", "threshold", "FNMR", "FMR"):
            t.add_column(col)
        for curve in (v["view2"], v["extended"]):
            for r in curve["fnmr_at_fmr"]:
                t.add_row(
                    curve["name"][:32] + ("" if r["resolvable"] else " (unresolved)"),
                    f"{r['target_fmr']:g}",
                    f"{r['threshold']:.4f}",
                    fmt_rate(r["fnmr"]),
                    fmt_rate(r["fmr"]),
                )
        console.print(t)
        acc = v["accuracy"]
        console.print(
            f"accuracy {acc['mean_accuracy']:.4f} ± {acc['std_accuracy']:.4f}; "
            f"EER {v['view2']['eer']:.4f} (View 2) / {v['extended']['eer']:.4f} (extended)"
        )
    ident = data.get("identify")
    if ident:
        cmc = ident["cmc"]
        console.print(
            f"[bold]identification[/bold] gallery {ident['gallery_people']:,}, mated "
            f"{ident['mated_searches']:,}, non-mated {ident['nonmated_searches']:,}; CMC rank 1 "
            f"{cmc['rank_1']:.4f}, rank 5 {cmc['rank_5']:.4f}, rank 20 {cmc['rank_20']:.4f}"
        )
        for r in ident["fnir_at_fpir"]:
            console.print(f"  FNIR @ FPIR {r['target_fpir']:g}: {fmt_rate(r['fnir'])}")
    target = float(data["calibration"]["target_fmr"])
    for d in data.get("demographics") or []:
        console.print(demographics_table(d, target))
    for g in data.get("group_search") or []:
        console.print(group_search_table(g))
    for a in data.get("audit") or []:
        t = Table(title=f"false-match audit: {a['gallery_size']:,} gallery, {a['probes']:,} probes")
        for col in ("setting", "similarity", "searches with a false match", "predicted"):
            t.add_column(col)
        for r in a["rows"]:
            p = r.get("predicted_fpir")
            t.add_row(
                r["setting"],
                f"{r['similarity']:.4f}",
                fmt_rate(r["probes_with_false_match"]),
                "n/a" if not p else f"{p['fpir']:.3g} [{p['ci95'][0]:.2g}, {p['ci95'][1]:.2g}]",
            )
        console.print(t)
        console.print(a["description"], style="dim")


def _suite_command(suites: tuple[Suite, ...], doc: str) -> Any:
    def command(
        lfw: LfwOption,
        utkface: UtkOption = None,
        distractors: DistractorOption = None,
        target_fmr: TargetOption = None,
        lax_similarity: LaxOption = None,
        max_people: MaxPeopleOption = None,
        workers: WorkersOption = 1,
        cache_dir: CacheOption = None,
        calibration_from: StoredOption = None,
        scoring: ScoringOption = None,
        out: OutOption = Path("eval-report"),
        as_json: JsonOption = False,
    ) -> None:
        _run(
            suites,
            out=out,
            as_json=as_json,
            lfw_dir=lfw,
            utkface_dir=utkface,
            distractors=distractors,
            target_fmr=target_fmr or settings_for(None).calibration_target_fmr,
            lax_similarity=lax_similarity,
            max_people=max_people,
            workers=workers,
            cache_dir=cache_dir,
            calibration_from=calibration_from,
            scoring=scoring,
        )

    command.__doc__ = doc
    return command


def show(
    report: Annotated[Path, typer.Argument(help="Report folder or report.json.")] = Path(
        "eval-report"
    ),
    as_json: JsonOption = False,
) -> None:
    """Print a report written by ``faceatlas eval run`` (open report.html for the plots)."""
    from faceatlas.eval.report import load_report

    data = load_report(report)
    if as_json:
        print_json(data)
    else:
        _show(data)


def calibrate(
    lfw: LfwOption,
    utkface: UtkOption = None,
    atlas: AtlasOption = None,
    target_fmr: TargetOption = None,
    max_people: MaxPeopleOption = None,
    workers: WorkersOption = 1,
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Estimate the score-to-FMR mapping and store it, with its threshold, in the atlas."""
    from faceatlas.engine import EngineSpec
    from faceatlas.eval.lab import LabOptions, run_lab
    from faceatlas.eval.report import fmt_rate

    settings = settings_for(atlas)
    options = LabOptions(
        lfw_dir=lfw,
        utkface_dir=utkface,
        suites=(),
        recalibrate=True,
        target_fmr=target_fmr or settings.calibration_target_fmr,
        max_people=max_people,
        workers=workers,
        cache_dir=cache_dir,
    )
    with open_service(settings) as service:
        with lab_progress(as_json) as progress:
            result = run_lab(options, EngineSpec.from_settings(settings), progress)
        saved = service.collection.save_calibration(result.calibration.record())
        threshold, source = service.collection.threshold()
    cal = result.calibration
    if as_json:
        print_json(
            {
                **cal.as_dict(),
                "id": saved.id,
                "search_threshold": threshold,
                "threshold_source": source,
            }
        )
        return
    console.print(
        f"calibration {saved.id} stored in {settings.atlas_dir}: target FMR {cal.target_fmr:g}, "
        f"threshold {cal.threshold:.4f}, observed {fmt_rate(cal.at_threshold.as_dict())}"
    )
    if source != "calibration":
        err_console.print(
            f"note: the search threshold in force is {threshold:.4f} from {source} "
            "(FACEATLAS_MIN_SIMILARITY overrides the calibration)"
        )


# The suites join ``faceatlas eval`` once, when this module is first imported.
eval_app.command("run")(_suite_command(tuple(Suite), "Run every suite and write the report."))
for _suite in Suite:
    eval_app.command(_suite.value)(
        _suite_command((_suite,), f"Run the {_suite.value} suite and write the report.")
    )
eval_app.command("show")(show)


def register(app: CliApp) -> None:
    """``faceatlas calibrate`` (the ``eval`` commands join ``eval_app`` on import)."""
    app.command("calibrate")(calibrate)
