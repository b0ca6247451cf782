"""``faceatlas eval``: accuracy measurements anyone can rerun."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faceatlas.cli.common import (
    CliApp,
    DetectorOption,
    DlibBackendOption,
    EngineOption,
    JsonOption,
    Table,
    UpsampleOption,
    console,
    print_json,
    progress_bar,
    settings_for,
)

__all__ = ["eval_app", "register"]

eval_app = CliApp(help="Measure accuracy on labelled datasets.")


@eval_app.command("lfw")
def lfw(
    pairs_file: Annotated[Path, typer.Argument(help="LFW pairs.txt (View 2).")],
    images_dir: Annotated[Path, typer.Argument(help="Folder of LFW person folders.")],
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=20, help="Evaluate about this many pairs, spread over all folds."
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=64)] = 1,
    engine: EngineOption = None,
    detector: DetectorOption = None,
    upsample: UpsampleOption = None,
    dlib_backend: DlibBackendOption = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Embedding cache [env FACEATLAS_CACHE_DIR].")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """LFW View 2 10-fold verification: accuracy, ROC AUC, TAR at FAR=1e-3."""
    from faceatlas.engine import EngineSpec
    from faceatlas.eval.lfw import run_lfw

    settings = settings_for(
        None, engine=engine, detector=detector, upsample=upsample, dlib_backend=dlib_backend
    )
    spec = EngineSpec.from_settings(settings)
    with progress_bar("[bold]embedding", quiet=as_json) as bar:
        task = bar.add_task("embed", total=None)
        report = run_lfw(
            pairs_file,
            images_dir,
            spec,
            limit=limit,
            workers=workers,
            cache_dir=cache_dir,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(report.as_dict())
        return
    table = Table(title=f"LFW verification ({report.model_id})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("pairs", str(report.pairs))
    table.add_row("folds", str(report.folds))
    table.add_row("mean accuracy", f"{report.mean_accuracy:.4f} ± {report.std_accuracy:.4f} (std)")
    table.add_row("standard error", f"{report.stderr_accuracy:.4f}")
    table.add_row("ROC AUC", f"{report.roc_auc:.5f}")
    table.add_row("TAR @ FAR=1e-3", f"{report.tar_at_far_1e3:.4f}")
    table.add_row("photos with centred-box fallback", str(report.fallback_faces))
    table.add_row("unreadable photos", str(report.unreadable))
    console.print(table)


def register(app: CliApp) -> None:
    app.add_typer(eval_app, name="eval")
