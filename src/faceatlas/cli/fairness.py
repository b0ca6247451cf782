"""``faceatlas eval fit-fairness``: fit the fair scorer that ships with the package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from faceatlas.cli.common import CliApp, JsonOption, console, print_json, progress_bar, settings_for
from faceatlas.cli.evaluate import eval_app
from faceatlas.cli.lab import CacheOption, LfwOption, UtkOption, WorkersOption
from faceatlas.eval.fairness import DEFAULT_REGIONS  # an option's default, at import

__all__ = ["register"]


def shipped_path(model_id: str) -> Path:
    """Where the package keeps the scorer of ``model_id`` (the source tree when editable)."""
    import faceatlas.search
    from faceatlas.search.threshold import DATA_DIR, shipped_name

    return Path(faceatlas.search.__file__).parent / DATA_DIR / shipped_name(model_id)


def fit_fairness(
    lfw: LfwOption,
    utkface: UtkOption = None,
    regions: Annotated[
        int, typer.Option("--regions", min=1, max=1000, help="k-means regions.")
    ] = DEFAULT_REGIONS,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (default: the package's own copy)."),
    ] = None,
    workers: WorkersOption = 1,
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit regions, offsets, threshold and error mappings on the calibration half only."""
    from faceatlas.engine import EngineSpec, create_engine
    from faceatlas.eval.corpus import Half, lfw_corpus, utkface_corpus
    from faceatlas.eval.embedded import embed_corpus
    from faceatlas.eval.fairness import FairnessFit, fit_fair_scorer
    from faceatlas.eval.lab import SPLIT_NOTE

    settings = settings_for(None)
    spec = EngineSpec.from_settings(settings)
    model_id = create_engine(spec).model_id
    corpora = [lfw_corpus(lfw), *([utkface_corpus(utkface)] if utkface else [])]
    with progress_bar("[bold]embedding {task.description}", quiet=as_json) as bar:
        embedded = []
        for corpus in corpora:
            task = bar.add_task(corpus.name, total=len(corpus))

            def report(done: int, total: int, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=total)

            full = embed_corpus(corpus, spec, workers=workers, cache_dir=cache_dir, progress=report)
            embedded.append(full)
    fit_half = [e.half(Half.CALIBRATION) for e in embedded]
    options = FairnessFit(regions=regions, target_fmr=settings.calibration_target_fmr)
    scorer = fit_fair_scorer(model_id, fit_half, options, split=SPLIT_NOTE)
    target = out or shipped_path(model_id)
    scorer.save(target)
    summary = {
        "model_id": model_id,
        "file": str(target),
        "threshold": scorer.threshold,
        "target_fmr": scorer.target_fmr,
        "regions": len(scorer.centroids),
        "regions_with_offset": int((scorer.offsets > 0).sum()),
        "largest_offset": float(scorer.offsets.max()),
        "impostor_comparisons": scorer.fmr.comparisons,
        "nonmated_searches": scorer.fpir.searches,
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"fair scorer for {model_id}: threshold {scorer.threshold:.4f} at FMR "
        f"{scorer.target_fmr:g}; {summary['regions_with_offset']} of {len(scorer.centroids)} "
        f"regions tightened (largest offset {summary['largest_offset']:.3f}); written to {target}"
    )


# ``fit-fairness`` joins ``faceatlas eval`` once, when this module is first imported.
eval_app.command("fit-fairness")(fit_fairness)


def register(app: CliApp) -> None:
    """Nothing at the top level: ``fit-fairness`` joins ``eval_app`` on import."""
