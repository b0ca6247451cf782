"""The Python facade over the cores: one object per atlas for the CLI, the services and
scripts.

>>> with Atlas.open("my-atlas") as atlas:            # doctest: +SKIP
...     atlas.ingest("photos/")
...     result = atlas.search(Path("probe.jpg").read_bytes())

It composes narrow cores and holds no rule of its own: the gallery (catalog, index, engine:
:mod:`faceatlas.gallery`), search (:mod:`faceatlas.search`), ingestion
(:mod:`faceatlas.ingest`), identities (:mod:`faceatlas.identity`) and privacy
(``atlas.privacy``, :mod:`faceatlas.privacy`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from faceatlas.accounts import Accounts
from faceatlas.audit import AuditLog
from faceatlas.cases import CaseDesk
from faceatlas.cases.watchlist import Watchlists
from faceatlas.config import Settings
from faceatlas.engine import FaceEngine, ModelCard
from faceatlas.errors import ConflictError
from faceatlas.gallery import FromGallery, Gallery
from faceatlas.identity import ClusterParams
from faceatlas.identity.controls import IdentityControls
from faceatlas.index import VectorIndex
from faceatlas.ingest import (
    CrawlOptions,
    FaceFilter,
    IngestProgress,
    IngestReport,
    Source,
    SourceKind,
)
from faceatlas.ingest.gallery_run import IngestHooks, IngestRun, crawl_into, ingest_into
from faceatlas.ingest.reembed import ReembedProgress, ReembedReport, reembed_faces
from faceatlas.privacy import Blocklist, keep_probe, optout_threshold
from faceatlas.privacy.controls import PrivacyControls
from faceatlas.privacy.erasure import complete_takedowns, taken_down_domains
from faceatlas.privacy.log import log_action
from faceatlas.privacy.matching import unblocked_hits
from faceatlas.privacy.optout import unprotected_optouts
from faceatlas.privacy.scope import PrivacyScope
from faceatlas.search.searcher import Searcher
from faceatlas.store import Catalog
from faceatlas.types import AnalyzedFace

__all__ = ["Atlas"]


class Atlas:
    """An atlas folder: catalog (source of truth) plus a vector index rebuilt from it."""

    def __init__(
        self, settings: Settings, catalog: Catalog, engine: FaceEngine, index: VectorIndex
    ) -> None:
        self.gallery = Gallery(settings, catalog, engine, index)
        self.face_filters: list[FaceFilter] = []
        """Extra filters on the faces of every ingest, after the opt-out blocklist."""
        self.accounts = Accounts(catalog.db)
        """Users, roles and credentials (see :mod:`faceatlas.accounts`)."""
        self.audit = AuditLog(catalog.db)
        """The hash-chained audit log (see :mod:`faceatlas.audit`)."""
        self.blocklist = Blocklist(catalog, engine.model_id, engine.dim)
        """Opt-out templates: ingestion skips their faces and search never returns them."""
        self.searcher = Searcher(
            self.gallery,
            unblocked=lambda hits: unblocked_hits(self.scope, hits),
            keep_probe=lambda data: keep_probe(catalog, data),
        )
        # Search (faceatlas.search) is the searcher's: detect, threshold in force, search.
        self.detect = self.searcher.detect
        """The faces of a probe photo, as selectable by :meth:`search`'s ``face``."""
        self.threshold = self.searcher.threshold
        """The search threshold in force and where it comes from."""
        self.search = self.searcher.search
        """Search with one face of a probe photo (the largest unless ``face`` is given)."""
        self.scope = PrivacyScope(self.gallery, self.audit, self.blocklist, self.searcher)
        self.privacy = PrivacyControls(self.scope)
        """Opt-out, erasure, takedown, subject access, retention (docs/privacy.md)."""
        self.watchlists = Watchlists(self.gallery, self.audit, self.searcher)  # search-modes.md

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        settings: Settings | None = None,
        *,
        engine: FaceEngine | None = None,
    ) -> Atlas:
        """Open (creating if needed) the atlas at ``path`` or ``settings.atlas_dir``.

        Raises :class:`ModelMismatchError` when the atlas was built with another model.
        """
        g = Gallery.open(_settings(path, settings), engine=engine)
        return cls(g.settings, g.catalog, g.engine, g.index)

    @classmethod
    def reembed(
        cls,
        path: str | Path | None = None,
        settings: Settings | None = None,
        *,
        force: bool = False,
        progress: Callable[[ReembedProgress], None] | None = None,
        drop_optout_filters: bool = False,
    ) -> ReembedReport:
        """Give every face an embedding of the engine ``settings`` name, then make that model
        the atlas's own (:mod:`faceatlas.ingest.reembed`); identities are then reclustered,
        manual decisions holding. Without ``force`` the switch waits until every face is
        re-embedded.

        Approved opt-outs without a template for the new model would stop keeping those
        people out: that is refused (:class:`ConflictError`, before anything is embedded)
        unless ``drop_optout_filters`` says so, which the privacy and audit logs record.
        """
        g = Gallery.open(_settings(path, settings), must_exist=True, guard_model=False)
        with cls(g.settings, g.catalog, g.engine, g.index) as atlas, g.writer_lock():
            unprotected = unprotected_optouts(g.catalog, g.model_id)
            if unprotected and not drop_optout_filters:
                raise ConflictError(
                    f"{len(unprotected)} approved opt-out(s) (requests "
                    f"{', '.join(map(str, unprotected[:20]))}) have no {g.model_id} template: "
                    "after the switch new ingestion and search would no longer keep those "
                    "people out. Ask the requesters for a new request after switching, and "
                    "confirm with --drop-optout-filters"
                )
            report = reembed_faces(
                g.catalog,
                g.engine,
                max_pixels=g.settings.max_pixels,
                commit_every=g.settings.commit_every,
                progress=progress,
            )
            if report.complete or force:
                g.adopt_model()
                if unprotected:
                    log_action(
                        atlas.scope,
                        "optout_filters_dropped",
                        actor="reembed",
                        target=f"model:{g.model_id}",
                        details={"optout_requests": unprotected},
                    )
                g.rebuild_index()
                atlas.identities.recluster()  # automatic identities came from the old model
            return report

    def close(self) -> None:
        self.gallery.close()

    def __enter__(self) -> Atlas:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the gallery (faceatlas.gallery) -------------------------------------------------

    settings = FromGallery[Settings]()
    catalog = FromGallery[Catalog]()
    engine = FromGallery[FaceEngine]()
    index = FromGallery[VectorIndex]()
    root = FromGallery[Path]()
    model_id = FromGallery[str]()
    card = FromGallery[ModelCard]()
    """The numbers the atlas's model states: its thresholds (:mod:`faceatlas.engine.card`)."""

    # --- ingest (faceatlas.ingest) ------------------------------------------------------

    def ingest(
        self,
        source: str | Path | Source,
        *,
        workers: int | None = None,
        progress: Callable[[IngestProgress], None] | None = None,
        kind: SourceKind = SourceKind.AUTO,
        ray_address: str | None = None,
    ) -> IngestReport:
        """Ingest a folder (or a single file), a WARC, a URL list, or any :class:`Source`.

        Copies add a sighting, not an image; failures are recorded per item, never raised.
        ``ray_address`` runs the analysis on a Ray cluster (``pip install faceatlas[ray]``).
        """
        run = IngestRun(workers, progress, ray_address)
        return ingest_into(self.gallery, source, self._ingest_hooks(), run, kind)

    def crawl(
        self,
        options: CrawlOptions,
        *,
        workers: int | None = None,
        progress: Callable[[IngestProgress], None] | None = None,
        ray_address: str | None = None,
    ) -> IngestReport:
        """Crawl politely from the seeds within the allowlist; a rerun resumes the crawl."""
        run = IngestRun(workers, progress, ray_address)
        return crawl_into(self.gallery, options, self._ingest_hooks(), run)

    def _ingest_hooks(self) -> IngestHooks:
        filters = [
            self.blocklist.face_filter(lambda: optout_threshold(self.scope)[0]),
            *self.face_filters,
        ]

        def face_filter(faces: list[AnalyzedFace]) -> list[AnalyzedFace]:
            for f in filters:
                faces = f(faces)
            return faces

        def after(report: IngestReport) -> None:
            if self.settings.identity_cluster_on_ingest and report.counts["faces"]:
                self.identities.cluster_pending()

        return IngestHooks(
            face_filter=face_filter,
            taken_down=lambda: taken_down_domains(self.catalog),
            erase_taken_down=lambda domains: complete_takedowns(self.scope, domains).images,
            after=self.watchlists.watching(after),  # then new faces meet the watchlists
        )

    # --- cases (faceatlas.cases) -------------------------------------------------------

    @property
    def cases(self) -> CaseDesk:
        """Cases, examiner decisions and their verification (:mod:`faceatlas.cases`)."""
        return CaseDesk(self.catalog.db, self.audit, self.accounts, self.settings)

    # --- identities (faceatlas.identity) -----------------------------------------------

    @property
    def identities(self) -> IdentityControls:
        """Clustering, curation and identity search (:mod:`faceatlas.identity`)."""
        params = ClusterParams.from_settings(self.settings, self.card)
        return IdentityControls(self.gallery, params, self.searcher.threshold)

    def stats(self) -> dict[str, Any]:
        threshold = dict(zip(("value", "source"), self.threshold(), strict=True))
        return {**self.gallery.inventory(), "threshold": threshold}


def _settings(path: str | Path | None, settings: Settings | None) -> Settings:
    settings = settings or Settings()
    return settings if path is None else settings.with_overrides(atlas_dir=Path(path))
