"""The one facade every front end uses: CLI, Python API, REST API and web app.

>>> with Atlas.open("my-atlas") as atlas:            # doctest: +SKIP
...     atlas.ingest("photos/")
...     result = atlas.search(Path("probe.jpg").read_bytes())
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from faceatlas import privacy
from faceatlas.accounts import Accounts
from faceatlas.audit import AuditLog
from faceatlas.config import Settings
from faceatlas.engine import (
    EngineSpec,
    FaceEngine,
    ModelCard,
    analyze_faces,
    card_of,
    create_engine,
    decode_image,
)
from faceatlas.engine.probe_gate import Verdict, assess_probe
from faceatlas.errors import (
    AtlasLockedError,
    ConflictError,
    InvalidRequestError,
    ModelMismatchError,
    NoFaceError,
    NotFoundError,
    ProbeQualityError,
)
from faceatlas.identity import (
    ClusterParams,
    ClusterReport,
    Identities,
    IdentityDetail,
    IdentitySearchResult,
    IdentitySummary,
    search_identities,
)
from faceatlas.identity import curation as identity_curation
from faceatlas.index import VectorIndex, open_index
from faceatlas.ingest import (
    AnalysisLimits,
    CrawlOptions,
    CrawlSource,
    FaceFilter,
    IngestOptions,
    IngestProgress,
    IngestReport,
    Source,
    SourceKind,
    TakedownList,
    WebSession,
    crawl_locator,
    make_executor,
    make_ray_executor,
    open_path_source,
    run_ingest,
)
from faceatlas.ingest.reembed import ReembedProgress, ReembedReport, reembed_faces
from faceatlas.ingest.worker import Executor
from faceatlas.privacy import Blocklist, keep_probe, optout_threshold
from faceatlas.privacy.matching import unblocked_hits
from faceatlas.search import FmrMapping, ProbeFace, SearchResult
from faceatlas.search.fairness import FairScorer
from faceatlas.search.run import SearchSetup, run_search, threshold_in_force, tighten_for_fpir
from faceatlas.store import Catalog, FaceRecord
from faceatlas.store.calibrations import CalibrationRecord, latest_calibration, save_calibration
from faceatlas.store.frontier import Frontier
from faceatlas.store.migrations import GENERATION_META
from faceatlas.types import AnalyzedFace, Vectors

__all__ = ["Atlas"]

CATALOG_FILE = "catalog.sqlite3"
INDEX_DIR = "index"
LOCK_FILE = "writer.lock"
META_MODEL_ID = "model_id"
META_DIM = "embedding_dim"
META_INDEX_DIRTY = "index_dirty"


class Atlas:
    """An atlas folder: catalog (source of truth) plus a vector index rebuilt from it."""

    def __init__(
        self, settings: Settings, catalog: Catalog, engine: FaceEngine, index: VectorIndex
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self.index = index
        self.face_filters: list[FaceFilter] = []
        self.accounts = Accounts(catalog.db)
        """Users, roles and credentials (see :mod:`faceatlas.accounts`)."""
        self.audit = AuditLog(catalog.db)
        """The hash-chained audit log (see :mod:`faceatlas.audit`)."""
        self._fmr_mapping: tuple[int, FmrMapping] | None = None
        self._fair_scorer: tuple[FairScorer | None] | None = None
        self._generation: str | None = None
        self.blocklist = Blocklist(catalog, engine.model_id, engine.dim)
        """Opt-out templates: ingestion skips their faces and search never returns them."""

    # --- lifecycle ------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        settings: Settings | None = None,
        *,
        engine: FaceEngine | None = None,
    ) -> Atlas:
        """Open (creating if needed) the atlas at ``path`` or ``settings.atlas_dir``.

        The engine is built from settings unless given; its weights load on
        first use. Raises :class:`ModelMismatchError` when the atlas was built
        with another embedding model.
        """
        settings = settings or Settings()
        if path is not None:
            settings = settings.with_overrides(atlas_dir=Path(path))
        root = settings.atlas_dir
        root.mkdir(parents=True, exist_ok=True)
        url = settings.database_url or f"sqlite:///{root / CATALOG_FILE}"
        catalog = Catalog.open(url)
        engine = engine or create_engine(EngineSpec.from_settings(settings))
        _guard_model(catalog, engine)
        model_id = engine.model_id

        def lookup(ids: Sequence[int]) -> dict[int, np.ndarray[Any, np.dtype[np.float32]]]:
            return catalog.vectors_for_faces(model_id, ids)

        index = open_index(settings, root / INDEX_DIR, model_id, engine.dim, lookup)
        atlas = cls(settings, catalog, engine, index)
        atlas.sync_index()
        return atlas

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
        """Give every face of the atlas an embedding of the engine ``settings`` name, then
        make that model the atlas's own (see :mod:`faceatlas.ingest.reembed`).

        Faces, identities and edits are kept. The switch happens only when every face
        was re-embedded, or with ``force`` (faces that failed then drop out of search);
        then identities are reclustered with the new model, manual decisions holding.

        Opt-out templates belong to the model that made them, and selfies are not kept:
        when approved opt-outs have no template for the new model, switching would stop
        keeping those people out of new ingestion and search. That is refused
        (:class:`ConflictError`, before anything is embedded) unless ``drop_optout_filters``
        says so; the switch is then logged in the privacy and audit logs with the
        requests concerned, whose requesters should be asked for a new request.
        """
        settings = settings or Settings()
        if path is not None:
            settings = settings.with_overrides(atlas_dir=Path(path))
        root = settings.atlas_dir
        if not (root / CATALOG_FILE).is_file() and settings.database_url is None:
            raise NotFoundError(f"no atlas at {root}")
        catalog = Catalog.open(settings.database_url or f"sqlite:///{root / CATALOG_FILE}")
        index: VectorIndex | None = None
        try:
            engine = create_engine(EngineSpec.from_settings(settings))
            model_id = engine.model_id

            def lookup(ids: Sequence[int]) -> dict[int, np.ndarray[Any, np.dtype[np.float32]]]:
                return catalog.vectors_for_faces(model_id, ids)

            index = open_index(settings, root / INDEX_DIR, model_id, engine.dim, lookup)
            atlas = cls(settings, catalog, engine, index)
            with atlas.writer_lock():
                unprotected = privacy.unprotected_optouts(catalog, model_id)
                if unprotected and not drop_optout_filters:
                    raise ConflictError(
                        f"{len(unprotected)} approved opt-out(s) (requests "
                        f"{', '.join(map(str, unprotected[:20]))}) have no {model_id} template: "
                        "after the switch new ingestion and search would no longer keep those "
                        "people out. Ask the requesters for a new request after switching, and "
                        "confirm with --drop-optout-filters"
                    )
                report = reembed_faces(
                    catalog,
                    engine,
                    max_pixels=settings.max_pixels,
                    commit_every=settings.commit_every,
                    progress=progress,
                )
                if report.complete or force:
                    with catalog.writer() as w:
                        w.set_meta(META_MODEL_ID, engine.model_id)
                        w.set_meta(META_DIM, str(engine.dim))
                    if unprotected:
                        privacy.log_action(
                            atlas,
                            "optout_filters_dropped",
                            actor="reembed",
                            target=f"model:{model_id}",
                            details={"optout_requests": unprotected},
                        )
                    atlas.rebuild_index()
                    # Automatic identities were found with the old model; manual decisions hold.
                    atlas.identities.recluster()
            return report
        finally:
            if index is not None:
                index.close()
            catalog.close()

    def close(self) -> None:
        try:
            self.index.close()
        finally:
            self.catalog.close()

    def __enter__(self) -> Atlas:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def root(self) -> Path:
        return self.settings.atlas_dir

    @property
    def model_id(self) -> str:
        return self.engine.model_id

    @property
    def card(self) -> ModelCard:
        """The numbers the atlas's model states: its thresholds (:mod:`faceatlas.engine.card`)."""
        return card_of(self.engine)

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Exclusive lock for writers (ingest, reindex, erasure) across processes."""
        path = self.root / LOCK_FILE
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AtlasLockedError(f"another process is writing to {self.root}") from None
            yield
        finally:
            os.close(fd)

    # --- index consistency ----------------------------------------------------------

    def catalog_changed(self) -> bool:
        """Whether any process changed the stored embeddings since this one last synced."""
        return self.catalog.get_meta(GENERATION_META) != self._generation

    def sync_index(self) -> str:
        """Bring the index in line with the catalog: ``ok``, ``caught_up`` or ``rebuilt``."""
        self._generation = self.catalog.get_meta(GENERATION_META)
        count, watermark = self.catalog.embedding_watermark(self.model_id)
        state = self.index.state()
        dirty = self.catalog.get_meta(META_INDEX_DIRTY) == "1"
        if (
            not dirty
            and state is not None
            and state.watermark == watermark
            and len(self.index) == count
        ):
            if self.index.needs_rebuild():
                self.rebuild_index()
                return "rebuilt"
            return "ok"
        if not dirty and state is not None and state.watermark < watermark:
            newer = 0
            batches = []
            for ids, vectors, _ in self.catalog.iter_embeddings(
                self.model_id, after_id=state.watermark
            ):
                newer += len(ids)
                batches.append((ids, vectors))
            if len(self.index) + newer == count:
                for ids, vectors in batches:
                    self.index.add(ids, vectors)
                self.index.save(watermark)
                return "caught_up"
        self.rebuild_index()
        return "rebuilt"

    def rebuild_index(self) -> int:
        """Rebuild the index from the catalog's embeddings; returns the vector count."""
        self.index.reset()
        watermark = 0
        for ids, vectors, last in self.catalog.iter_embeddings(self.model_id):
            self.index.add(ids, vectors)
            watermark = last
        self.index.save(watermark)
        self.catalog.set_meta(META_INDEX_DIRTY, "0")
        return len(self.index)

    def mark_index_dirty(self) -> None:
        """Record, before a deletion commits, that the saved index may hold stale vectors."""
        self.catalog.set_meta(META_INDEX_DIRTY, "1")

    def delete_faces(self, face_ids: Sequence[int]) -> int:
        """Erase faces: catalog rows (face, embeddings, thumbnail) and their index vectors.

        The index is marked dirty before the catalog commits, so a crash in between
        makes the next open rebuild the index from the catalog. Returns how many of
        ``face_ids`` existed.
        """
        ids = sorted({int(i) for i in face_ids})
        if not ids:
            return 0
        with self.writer_lock():
            self.sync_index()
            self.mark_index_dirty()
            with self.catalog.writer() as w:
                deleted = w.delete_faces(ids)
            self.index.remove(np.asarray(ids, dtype=np.int64))
            _, watermark = self.catalog.embedding_watermark(self.model_id)
            self.index.save(watermark)
            self.catalog.set_meta(META_INDEX_DIRTY, "0")
            self.sync_index()  # in step with its own erasure: no catch-up on the next search
        return deleted

    # --- ingest --------------------------------------------------------------------

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

        Exact and near-duplicate copies add a sighting, not an image. Failures are
        recorded per item and summarised in the report; they never stop the run.
        ``ray_address`` runs the analysis on a Ray cluster (``pip install faceatlas[ray]``).
        """
        takedowns = self.takedown_list()
        with WebSession(self.settings, refuse=takedowns.check) as session:
            if not isinstance(source, Source):
                source = open_path_source(Path(source), kind, self.settings, session)
            return self._run_ingest(source, workers, progress, ray_address, takedowns)

    def crawl(
        self,
        options: CrawlOptions,
        *,
        workers: int | None = None,
        progress: Callable[[IngestProgress], None] | None = None,
        ray_address: str | None = None,
    ) -> IngestReport:
        """Crawl politely from the seeds within the allowlist; a rerun resumes the crawl."""
        takedowns = self.takedown_list()
        with WebSession(self.settings, refuse=takedowns.check) as session:
            with self.catalog.writer() as w:
                source_id = w.ensure_source(CrawlSource.kind, crawl_locator(options))
            frontier = Frontier(self.catalog.db, source_id)
            report = self._run_ingest(
                CrawlSource(options, session.politeness, frontier),
                workers,
                progress,
                ray_address,
                takedowns,
            )
        report.counts.update({f"frontier:{k}": v for k, v in frontier.counts().items()})
        return report

    def _run_ingest(
        self,
        source: Source,
        workers: int | None,
        progress: Callable[[IngestProgress], None] | None,
        ray_address: str | None,
        takedowns: TakedownList,
    ) -> IngestReport:
        n_workers = workers or self.settings.workers
        limits = AnalysisLimits(
            max_pixels=self.settings.max_pixels,
            max_file_bytes=self.settings.max_file_bytes,
            thumbnail_px=self.settings.thumbnail_px,
        )
        options = IngestOptions(
            model_id=self.model_id,
            same_face_min_similarity=self.card.required("same_face_min_similarity"),
            commit_every=self.settings.commit_every,
            index_checkpoint_every=self.settings.index_checkpoint_every,
            window=max(4, 4 * n_workers),
            fetch_threads=self.settings.fetch_threads,
            near_duplicate_bits=self.settings.near_duplicate_bits,
            max_pixels=self.settings.max_pixels,
        )
        spec = EngineSpec.from_settings(self.settings)
        with self.writer_lock():
            self.sync_index()
            executor: Executor
            if ray_address is not None:
                executor = make_ray_executor(ray_address, spec, limits, n_workers)
            else:
                executor = make_executor(spec, limits, n_workers, self.engine)
            report = run_ingest(
                self.catalog,
                self.index,
                source,
                executor,
                options,
                face_filter=self._combined_filter(),
                progress=progress,
                takedowns=takedowns,
            )
            takedowns.refresh()
            if takedowns.added:  # taken down during the run: erase what it stored from them
                erased = privacy.complete_takedowns(self, takedowns.added)
                report.counts["takedown_erased_images"] += erased.images
            if self.index.needs_rebuild():  # grown past what its lists were trained for
                self.rebuild_index()
            if self.settings.identity_cluster_on_ingest and report.counts["faces"]:
                self.identities.cluster_pending()
            self.sync_index()  # in step with its own writes: no catch-up on the next search
            return report

    def takedown_list(self) -> TakedownList:
        """The taken-down domains every web source path refuses (read on each refresh)."""
        takedowns = TakedownList(lambda: privacy.taken_down_domains(self.catalog))
        takedowns.refresh()
        return takedowns

    def _combined_filter(self) -> FaceFilter | None:
        filters = [
            self.blocklist.face_filter(lambda: optout_threshold(self)[0]),
            *self.face_filters,
        ]

        def apply(faces: list[AnalyzedFace]) -> list[AnalyzedFace]:
            for f in filters:
                faces = f(faces)
            return faces

        return apply

    # --- search ------------------------------------------------------------------------

    def analyze_probe(
        self, data: bytes, *, max_pixels: int | None = None, fit_pixels: int | None = None
    ) -> list[AnalyzedFace]:
        """Every face in a probe photo, largest first. Raises on a bad image; ``max_pixels``
        tightens the configured pixel limit (checked before decoding)."""
        limit = (
            self.settings.max_pixels
            if max_pixels is None
            else min(max_pixels, self.settings.max_pixels)
        )
        image = decode_image(
            data, max_pixels=limit, max_bytes=self.settings.max_file_bytes, fit_pixels=fit_pixels
        )
        return analyze_faces(self.engine, image.pixels, thumbnail_px=self.settings.thumbnail_px)

    def detect(self, data: bytes) -> list[ProbeFace]:
        """The faces of a probe photo, as selectable by :meth:`search`'s ``face``."""
        return [ProbeFace(i, f.box, f.quality) for i, f in enumerate(self.analyze_probe(data))]

    def threshold(self) -> tuple[float, str]:
        """The search threshold in force and where it comes from."""
        calibrated = self.catalog.get_meta(f"calibrated_threshold:{self.model_id}")
        return threshold_in_force(
            self.settings.min_similarity,
            None if calibrated is None else float(calibrated),
            self.fair_scorer(),
            self.card,
        )

    def search(
        self,
        data: bytes,
        *,
        face: int | None = None,
        top_k: int | None = None,
        min_similarity: float | None = None,
    ) -> SearchResult:
        """Search with one face of a probe photo (the largest unless ``face`` is given).

        Raises :class:`NoFaceError` when the photo has no face.
        """
        faces = self.analyze_probe(data)
        if self.settings.store_probes:
            keep_probe(self.catalog, data)
        if not faces:
            raise NoFaceError("no face found in the photo")
        chosen = 0 if face is None else face
        if not 0 <= chosen < len(faces):
            raise InvalidRequestError(
                f"face {chosen} does not exist; the photo has {len(faces)} face(s)"
            )
        verdict = assess_probe(faces[chosen].quality, self.card.probe_floors)
        if verdict.verdict is Verdict.REFUSE:
            raise ProbeQualityError(
                f"face {chosen} is too poor to search: " + "; ".join(verdict.reasons)
            )
        probe = [ProbeFace(i, f.box, f.quality) for i, f in enumerate(faces)]
        result = self.search_vector(
            faces[chosen].embedding, probe, chosen, top_k=top_k, min_similarity=min_similarity
        )
        return replace(result, probe_quality=verdict)

    def search_vector(
        self,
        vector: np.ndarray[Any, np.dtype[np.float32]],
        probe_faces: list[ProbeFace] | None = None,
        selected: int = 0,
        *,
        top_k: int | None = None,
        min_similarity: float | None = None,
    ) -> SearchResult:
        """Search with an embedding already computed by this atlas's engine."""
        if min_similarity is None:
            threshold, source = tighten_for_fpir(
                *self.threshold(), self.fair_scorer(), self.settings.target_fpir, len(self.index)
            )
        else:
            threshold, source = min_similarity, "request"
        setup = SearchSetup(
            model_id=self.model_id,
            index=self.index,
            scorer=self.fair_scorer(),
            fmr=self.fmr_mapping(),
            vectors=lambda ids: self.catalog.vectors_for_faces(self.model_id, ids),
            records=self.catalog.faces,
            unblocked=lambda hits: unblocked_hits(self, hits),
        )
        return run_search(
            setup,
            vector,
            threshold=threshold,
            source=source,
            top_k=top_k or self.settings.top_k,
            probe_faces=probe_faces or (),
            selected=selected,
        )

    def fair_scorer(self) -> FairScorer | None:
        """The fair scorer in force: the one shipped for this model, unless turned off."""
        if not self.settings.fair_scoring:
            return None
        if self._fair_scorer is None:
            self._fair_scorer = (FairScorer.shipped(self.model_id),)
        return self._fair_scorer[0]

    # --- identities (logic in faceatlas.identity) ----------------------------------------

    @property
    def identities(self) -> Identities:
        params = ClusterParams.from_settings(self.settings, self.card)
        return Identities(self.catalog, self.index, self.model_id, params)

    def cluster_identities(self, *, rebuild: bool = False) -> ClusterReport:
        """Cluster faces without an identity; ``rebuild`` reclusters everything (manual
        decisions hold)."""
        with self.writer_lock():
            self.sync_index()
            if rebuild:
                return self.identities.recluster()
            return self.identities.cluster_pending()

    def list_identities(
        self, *, min_faces: int = 1, limit: int = 100, offset: int = 0
    ) -> list[IdentitySummary]:
        if not 1 <= limit <= 10_000 or offset < 0 or min_faces < 1:
            raise InvalidRequestError("limit must be 1-10000, offset >= 0, min_faces >= 1")
        return self.identities.summaries(min_faces=min_faces, limit=limit, offset=offset)

    def identity(self, identity_id: int) -> IdentityDetail:
        """An identity's photos, sightings, domains, candidate names and curation log."""
        return self.identities.detail(identity_id)

    def merge_identities(self, target: int, others: Sequence[int], *, actor: str) -> int:
        with self.writer_lock():
            return identity_curation.merge(self.catalog.db, target, others, actor)

    def split_identity(self, identity_id: int, face_ids: Sequence[int], *, actor: str) -> int:
        with self.writer_lock():
            return identity_curation.split(self.catalog.db, identity_id, face_ids, actor)

    def move_faces(self, face_ids: Sequence[int], target: int | None, *, actor: str) -> int:
        with self.writer_lock():
            return identity_curation.move(self.catalog.db, face_ids, target, actor)

    def label_identity(self, identity_id: int, label: str | None, *, actor: str) -> None:
        with self.writer_lock():
            identity_curation.label(self.catalog.db, identity_id, label, actor)

    def reject_faces(self, identity_id: int, face_ids: Sequence[int], *, actor: str) -> None:
        """ "Not this person": the faces leave the identity for good."""
        with self.writer_lock():
            identity_curation.reject(self.catalog.db, identity_id, face_ids, actor)

    def search_identities(
        self,
        photos: Sequence[bytes],
        *,
        top_k: int | None = None,
        min_similarity: float | None = None,
    ) -> IdentitySearchResult:
        """Search for people with one or more photos of one person (the largest face of each).

        Raises :class:`NoFaceError` when a photo has no face.
        """
        if not photos:
            raise InvalidRequestError("give at least one probe photo")
        k = top_k or self.settings.top_k
        if not 1 <= k <= 1000:
            raise InvalidRequestError("top_k must be between 1 and 1000")
        vectors = []
        for number, data in enumerate(photos, start=1):
            faces = self.analyze_probe(data)
            if not faces:
                raise NoFaceError(f"no face found in probe photo {number}")
            vectors.append(faces[0].embedding)
        if min_similarity is None:
            threshold, source = self.threshold()
        else:
            threshold, source = min_similarity, "request"
        return search_identities(
            self.identities,
            np.stack(vectors).astype(np.float32),
            threshold=threshold,
            threshold_source=source,
            top_k=k,
        )

    # --- calibration -------------------------------------------------------------------

    def calibration(self) -> CalibrationRecord | None:
        """The latest stored calibration for this atlas's model, if any."""
        return latest_calibration(self.catalog, self.model_id)

    def save_calibration(self, record: CalibrationRecord) -> CalibrationRecord:
        """Store a calibration (see ``faceatlas calibrate``); its threshold becomes the default."""
        if record.model_id != self.model_id:
            raise ModelMismatchError(
                f"calibration is for {record.model_id}; this atlas uses {self.model_id}"
            )
        saved = save_calibration(self.catalog, record)
        self._fmr_mapping = None
        return saved

    def fmr_mapping(self) -> FmrMapping | None:
        """Score-to-FMR mapping of the latest calibration (cached per calibration), else the
        shipped fair scorer's."""
        stored = self.stored_fmr_mapping()
        if stored is not None:
            return stored
        scorer = self.fair_scorer()
        return None if scorer is None else scorer.fmr

    def stored_fmr_mapping(self) -> FmrMapping | None:
        """The mapping of the atlas's latest stored calibration only (cached per calibration)."""
        record = self.calibration()
        if record is None:
            return None
        if self._fmr_mapping is None or self._fmr_mapping[0] != record.id:
            self._fmr_mapping = (record.id, FmrMapping.from_dict(record.mapping))
        return self._fmr_mapping[1]

    # --- privacy (logic in faceatlas.privacy; see docs/privacy.md) ---------------------------

    def optout_request(
        self, selfies: Sequence[bytes], contact: str, *, channel: str = "cli"
    ) -> privacy.OptOutRequest:
        """Record an opt-out (selfies are analysed in memory and never stored)."""
        return privacy.submit_optout(self, selfies, contact, channel=channel)

    def optout_templates(self, selfies: Sequence[bytes]) -> Vectors:
        """The templates of an opt-out's selfies (analysed in memory, never stored)."""
        return privacy.templates_from_selfies(self, selfies)

    def optout_record(
        self, templates: Vectors, contact: str, *, channel: str = "cli"
    ) -> privacy.OptOutRequest:
        """Store an opt-out request with templates from :meth:`optout_templates`."""
        return privacy.record_optout(self, templates, contact, channel=channel)

    def optout_approve(
        self, request_id: int, *, actor: str, note: str | None = None, role: str = "operator"
    ) -> privacy.OptOutReceipt:
        return privacy.approve_optout(self, request_id, actor=actor, note=note, role=role)

    def optout_reject(
        self, request_id: int, *, actor: str, note: str | None = None, role: str = "operator"
    ) -> privacy.OptOutRequest:
        return privacy.reject_optout(self, request_id, actor=actor, note=note, role=role)

    def optout(self, request_id: int) -> privacy.OptOutRequest:
        return privacy.get_optout(self, request_id)

    def optouts(self, status: privacy.OptOutStatus | None = None) -> list[privacy.OptOutRequest]:
        return privacy.list_optouts(self, status)

    def erase_faces(
        self,
        face_ids: Sequence[int],
        *,
        actor: str,
        case_ref: str | None = None,
        role: str = "operator",
    ) -> privacy.ErasureCounts:
        return privacy.erase_faces(self, face_ids, actor=actor, case_ref=case_ref, role=role)

    def erase_images(
        self,
        image_ids: Sequence[int],
        *,
        actor: str,
        case_ref: str | None = None,
        role: str = "operator",
    ) -> privacy.ErasureCounts:
        return privacy.erase_images(self, image_ids, actor=actor, case_ref=case_ref, role=role)

    def erase_source_url(
        self, url: str, *, actor: str, case_ref: str | None = None, role: str = "operator"
    ) -> privacy.ErasureCounts:
        return privacy.erase_source_url(self, url, actor=actor, case_ref=case_ref, role=role)

    def takedown_domain(
        self, domain: str, *, actor: str, case_ref: str | None = None, role: str = "operator"
    ) -> privacy.ErasureCounts:
        """Erase a domain (subdomains included) and refuse it in every later ingest."""
        return privacy.takedown_domain(self, domain, actor=actor, case_ref=case_ref, role=role)

    def takedowns(self) -> list[privacy.Takedown]:
        """The taken-down domains, with when, by whom and the case reference."""
        return privacy.takedowns(self.catalog)

    def subject_access(
        self,
        selfies: Sequence[bytes],
        *,
        requester: str,
        verified_by: str,
        case_ref: str,
        include_thumbnails: bool = True,
        actor: str | None = None,
        role: str = "operator",
    ) -> dict[str, Any]:
        return privacy.subject_access_export(
            self,
            selfies,
            requester=requester,
            verified_by=verified_by,
            case_ref=case_ref,
            include_thumbnails=include_thumbnails,
            actor=actor,
            role=role,
        )

    def run_retention(
        self, *, now: datetime | None = None, actor: str = "retention", role: str = "operator"
    ) -> privacy.RetentionReport:
        return privacy.run_retention(self, now=now, actor=actor, role=role)

    def privacy_log(self, limit: int = 100) -> list[privacy.PrivacyAction]:
        return privacy.read_actions(self.catalog, limit=limit)

    # --- reads ---------------------------------------------------------------------------

    def face(self, face_id: int) -> FaceRecord:
        rec = self.catalog.faces([face_id]).get(face_id)
        if rec is None:
            raise NotFoundError(f"face {face_id} does not exist")
        return rec

    def faces(self, face_ids: Sequence[int]) -> dict[int, FaceRecord]:
        """Face records (image and every sighting) keyed by id; unknown ids are left out."""
        return self.catalog.faces(face_ids)

    def thumbnail(self, face_id: int) -> bytes:
        jpeg = self.catalog.thumbnail(face_id)
        if jpeg is None:
            raise NotFoundError(f"no thumbnail for face {face_id}")
        return jpeg

    def stats(self) -> dict[str, Any]:
        return {
            "atlas": str(self.root),
            "model_id": self.model_id,
            "embeddings_by_model": self.catalog.embedding_models(),
            "catalog": self.catalog.counts(),
            "index": self.index.stats(),
            "threshold": dict(zip(("value", "source"), self.threshold(), strict=True)),
        }


def _guard_model(catalog: Catalog, engine: FaceEngine) -> None:
    stored_model = catalog.get_meta(META_MODEL_ID)
    stored_dim = catalog.get_meta(META_DIM)
    if stored_model is None:
        with catalog.writer() as w:
            w.set_meta(META_MODEL_ID, engine.model_id)
            w.set_meta(META_DIM, str(engine.dim))
        return
    if stored_model != engine.model_id or stored_dim != str(engine.dim):
        raise ModelMismatchError(
            f"this atlas holds {stored_model} ({stored_dim}-d) embeddings; the engine makes "
            f"{engine.model_id} ({engine.dim}-d). Use the matching engine, or re-embed the atlas."
        )
