"""Filling and inspecting the atlas: ingest, crawl, index rebuild, calibration and
re-embedding, for the front ends that run them in the foreground (the command line). What
the atlas holds is :mod:`faceatlas.services.inventory`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from faceatlas.atlas import Atlas
from faceatlas.config import Settings
from faceatlas.ingest import CrawlOptions, IngestProgress, IngestReport, SourceKind
from faceatlas.ingest.reembed import ReembedProgress, ReembedReport
from faceatlas.services.gate import EngineGate
from faceatlas.store.calibrations import CalibrationRecord

__all__ = ["Collection", "reembed"]

Progress = Callable[[IngestProgress], None]


class Collection:
    """What goes into the atlas and what it holds."""

    def __init__(self, atlas: Atlas, gate: EngineGate) -> None:
        self.atlas = atlas
        self.gate = gate

    def ingest(
        self,
        path: Path,
        *,
        kind: SourceKind = SourceKind.AUTO,
        progress: Progress | None = None,
        ray_address: str | None = None,
    ) -> IngestReport:
        """Index every image under ``path``; reruns resume and add nothing twice."""
        return self.atlas.ingest(path, progress=progress, kind=kind, ray_address=ray_address)

    def crawl(
        self,
        options: CrawlOptions,
        *,
        progress: Progress | None = None,
        ray_address: str | None = None,
    ) -> IngestReport:
        """Crawl from seed pages within the allowed domains and index the images found."""
        return self.atlas.crawl(options, progress=progress, ray_address=ray_address)

    def reindex(self) -> int:
        """Rebuild the vector index from the catalog; returns the vectors indexed."""
        with self.atlas.gallery.writer_lock(), self.gate.exclusive():
            return self.atlas.gallery.rebuild_index()

    def calibration(self) -> CalibrationRecord | None:
        """The latest stored calibration for the atlas's model, if any."""
        return self.atlas.searcher.calibration()

    def threshold(self) -> tuple[float, str]:
        """The similarity threshold in force and where it comes from."""
        return self.atlas.threshold()

    def save_calibration(self, record: CalibrationRecord) -> CalibrationRecord:
        """Store a calibration; its threshold becomes the default."""
        with self.gate.exclusive():
            return self.atlas.searcher.save_calibration(record)


def reembed(
    settings: Settings,
    *,
    force: bool = False,
    progress: Callable[[ReembedProgress], None] | None = None,
    drop_optout_filters: bool = False,
) -> ReembedReport:
    """Embed every stored face with the configured model and switch the atlas to it once
    all are done (or with ``force``); it opens the atlas itself, as its only writer."""
    return Atlas.reembed(
        settings=settings,
        force=force,
        progress=progress,
        drop_optout_filters=drop_optout_filters,
    )
