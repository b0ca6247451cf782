"""``faceatlas models``: what runs the face models; ``faceatlas reembed``: move an atlas to
another face model, keeping its faces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from faceatlas.cli.common import (
    AtlasOption,
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
from faceatlas.errors import ReembedIncompleteError

if TYPE_CHECKING:
    from faceatlas.ingest.reembed import ReembedProgress

__all__ = ["register"]


def reembed(
    engine: EngineOption = None,
    atlas: AtlasOption = None,
    detector: DetectorOption = None,
    upsample: UpsampleOption = None,
    dlib_backend: DlibBackendOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Switch models even if some faces could not be re-embedded."),
    ] = False,
    drop_optout_filters: Annotated[
        bool,
        typer.Option(
            "--drop-optout-filters",
            help="Switch even though approved opt-outs have no template for the new model "
            "(logged; ask those requesters for a new request).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Embed every face with ENGINE's model and make it the atlas's model.

    Faces, identities and manual edits are kept; the old embeddings stay in the
    catalog (switching back is free) and the index holds only the new model.
    Rerunning resumes. Exits 9 (``reembed_incomplete``) when faces are left without one.
    """
    from faceatlas.services.collection import reembed as reembed_atlas

    settings = settings_for(
        atlas, engine=engine, detector=detector, upsample=upsample, dlib_backend=dlib_backend
    )
    with progress_bar("[bold]re-embed", quiet=as_json) as bar:
        task = bar.add_task("images", total=None)

        def on_progress(p: ReembedProgress) -> None:
            bar.update(task, completed=p.images_done, total=p.images_total)

        report = reembed_atlas(
            settings,
            force=force,
            progress=on_progress,
            drop_optout_filters=drop_optout_filters,
        )
    switched = report.complete or force
    if as_json:
        print_json({**report.as_dict(), "switched": switched})
    else:
        console.print(
            f"{report.model_id}: {report.faces_embedded} faces embedded now, "
            f"{report.faces_done_before} before, {report.faces_failed} failed "
            f"({report.images_unreadable} images could not be read again)"
        )
        if switched:
            console.print(f"the atlas now searches with {report.model_id}")
    if not switched:
        raise ReembedIncompleteError(
            f"{report.faces_failed} faces have no {report.model_id} embedding; the atlas still "
            "uses its old model (rerun when the images are back, or use --force)"
        )


def models(
    engine: EngineOption = None,
    dlib_backend: DlibBackendOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the face engine, its model and the execution providers it runs on.

    Providers come from FACEATLAS_EXECUTION_PROVIDERS (e.g. cuda,cpu); one this onnxruntime
    cannot use falls back to CPU, and the reason is shown here. The recognizer runtime line
    says what runs the recognizer (FACEATLAS_INFERENCE_RUNTIME, FACEATLAS_INFERENCE_PRECISION)
    and whether the CPU computes bfloat16.
    """
    from faceatlas.services.models import engine_report

    report = engine_report(settings_for(None, engine=engine, dlib_backend=dlib_backend))
    if as_json:
        print_json(report.as_dict())
        return
    table = Table(title="face models", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("engine", f"{report.engine} (detector {report.detector})")
    table.add_row("model", f"{report.model_id} ({report.dim}-d)")
    table.add_row("available providers", ", ".join(report.available))
    choice = report.providers
    if report.runtime is not None:
        table.add_row("recognizer runtime", report.runtime.describe())
    if choice is None:
        table.add_row("runs on", "dlib's own code (CPU); no ONNX sessions")
    else:
        table.add_row("requested providers", ", ".join(p.value for p in choice.requested))
        table.add_row("runs on", ", ".join(choice.active))
        for reason in choice.reasons:
            table.add_row("fell back to CPU", reason)
    console.print(table)


def register(app: CliApp) -> None:
    app.command("models")(models)
    app.command("reembed")(reembed)
