"""Ingesting into a gallery: the writer lock, the analysis executor (local processes or Ray),
the pipeline, and keeping the index in step afterwards.

What other cores decide is given as :class:`IngestHooks`: which faces may not be stored
(opt-outs), which domains are taken down and how to erase what a run stored from a domain
taken down meanwhile, and what follows a run (identity clustering).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from faceatlas.engine import EngineSpec
from faceatlas.engine.video import VideoLimits
from faceatlas.gallery import Gallery
from faceatlas.ingest.crawl import CrawlOptions, CrawlSource, crawl_locator
from faceatlas.ingest.pipeline import FaceFilter, run_ingest
from faceatlas.ingest.ray_executor import make_ray_executor
from faceatlas.ingest.report import IngestOptions, IngestProgress, IngestReport
from faceatlas.ingest.source import Source
from faceatlas.ingest.takedown import TakedownList
from faceatlas.ingest.web import SourceKind, WebSession, open_path_source
from faceatlas.ingest.worker import AnalysisLimits, Executor, make_executor
from faceatlas.store.frontier import Frontier
from faceatlas.types import record

__all__ = ["IngestHooks", "IngestRun", "crawl_into", "ingest_into"]


@record
class IngestHooks:
    """What the cores above ingestion decide for a run."""

    face_filter: FaceFilter | None
    """Drops faces that may not be stored (opt-outs)."""
    taken_down: Callable[[], list[str]]
    """The taken-down domains, read again on every refresh."""
    erase_taken_down: Callable[[Iterable[str]], int]
    """Erases what is stored from domains taken down during a run; returns images erased."""
    after: Callable[[IngestReport], None]
    """Runs under the writer lock once the run's faces are stored (identity clustering)."""


@record
class IngestRun:
    """How one run analyses: worker processes, or a Ray cluster at ``ray_address``."""

    workers: int | None = None
    progress: Callable[[IngestProgress], None] | None = None
    ray_address: str | None = None


def takedown_list(hooks: IngestHooks) -> TakedownList:
    takedowns = TakedownList(hooks.taken_down)
    takedowns.refresh()
    return takedowns


def ingest_into(
    gallery: Gallery,
    source: str | Path | Source,
    hooks: IngestHooks,
    run: IngestRun,
    kind: SourceKind = SourceKind.AUTO,
) -> IngestReport:
    """Ingest a folder (or a single file), a WARC, a URL list, or any :class:`Source`."""
    takedowns = takedown_list(hooks)
    with WebSession(gallery.settings, refuse=takedowns.check) as session:
        if not isinstance(source, Source):
            source = open_path_source(Path(source), kind, gallery.settings, session)
        return _run(gallery, source, hooks, run, takedowns)


def crawl_into(
    gallery: Gallery, options: CrawlOptions, hooks: IngestHooks, run: IngestRun
) -> IngestReport:
    """Crawl politely from the seeds within the allowlist; a rerun resumes the crawl."""
    takedowns = takedown_list(hooks)
    with WebSession(gallery.settings, refuse=takedowns.check) as session:
        with gallery.catalog.writer() as w:
            source_id = w.ensure_source(CrawlSource.kind, crawl_locator(options))
        frontier = Frontier(gallery.catalog.db, source_id)
        source = CrawlSource(options, session.politeness, frontier)
        report = _run(gallery, source, hooks, run, takedowns)
    report.counts.update({f"frontier:{k}": v for k, v in frontier.counts().items()})
    return report


def _run(
    gallery: Gallery,
    source: Source,
    hooks: IngestHooks,
    run: IngestRun,
    takedowns: TakedownList,
) -> IngestReport:
    settings = gallery.settings
    n_workers = run.workers or settings.workers
    limits = AnalysisLimits(
        max_pixels=settings.max_pixels,
        max_file_bytes=settings.max_file_bytes,
        thumbnail_px=settings.thumbnail_px,
        video=VideoLimits.from_settings(settings),
    )
    options = IngestOptions(
        model_id=gallery.model_id,
        same_face_min_similarity=gallery.card.required("same_face_min_similarity"),
        commit_every=settings.commit_every,
        index_checkpoint_every=settings.index_checkpoint_every,
        window=max(4, 4 * n_workers) + settings.analysis_group * n_workers,
        window_bytes=settings.ingest_window_bytes,
        fetch_threads=settings.fetch_threads,
        near_duplicate_bits=settings.near_duplicate_bits,
        max_pixels=settings.max_pixels,
    )
    spec = EngineSpec.from_settings(settings)
    with gallery.writer_lock():
        gallery.sync_index()
        executor: Executor
        if run.ray_address is not None:
            executor = make_ray_executor(
                run.ray_address, spec, limits, n_workers, group=settings.analysis_group
            )
        else:
            executor = make_executor(
                spec, limits, n_workers, gallery.engine, group=settings.analysis_group
            )
        report = run_ingest(
            gallery.catalog,
            gallery.index,
            source,
            executor,
            options,
            face_filter=hooks.face_filter,
            progress=run.progress,
            takedowns=takedowns,
        )
        takedowns.refresh()
        if takedowns.added:  # taken down during the run: erase what it stored from them
            report.counts["takedown_erased_images"] += hooks.erase_taken_down(takedowns.added)
        if gallery.index.needs_rebuild():  # grown past what its lists were trained for
            gallery.rebuild_index()
        hooks.after(report)
        gallery.sync_index()  # in step with its own writes: no catch-up on the next search
        return report
