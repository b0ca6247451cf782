"""Ingestion: items from a source -> dedupe -> analysis in workers -> catalog + index.

Writes happen in the calling process only, in source order, in transactions
of ``commit_every`` images; vectors reach the index after their transaction
commits. A kill at any point leaves a consistent catalog, and the index is
caught up from the catalog when the atlas is next opened. A rerun skips what
is already stored, so it resumes rather than restarts.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from faceatlas.errors import FaceAtlasError
from faceatlas.index.protocol import VectorIndex
from faceatlas.ingest.source import Source, SourceItem
from faceatlas.ingest.worker import Analysis, Executor
from faceatlas.store.catalog import Catalog, CatalogWriter, NewSighting
from faceatlas.types import AnalyzedFace

__all__ = ["FaceFilter", "IngestOptions", "IngestProgress", "IngestReport", "run_ingest"]

FaceFilter = Callable[[list[AnalyzedFace]], list[AnalyzedFace]]
"""Drops faces that must never be stored (the opt-out blocklist plugs in here)."""


@dataclass(frozen=True, slots=True)
class IngestOptions:
    model_id: str
    commit_every: int = 64
    index_checkpoint_every: int = 2000
    window: int = 8
    """Items in flight at once: bounds memory whatever the source size."""


@dataclass(frozen=True, slots=True)
class IngestProgress:
    done: int
    total: int | None
    faces: int


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did. ``counts`` keys: ``items``, ``new_images``, ``faces``,
    ``duplicates``, ``unchanged``, ``no_face``, ``failed`` and ``failed:<code>``."""

    run_id: int
    source: str
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def images_per_s(self) -> float:
        return self.counts["items"] / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def faces_per_s(self) -> float:
        return self.counts["faces"] / self.elapsed_s if self.elapsed_s else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "counts": dict(sorted(self.counts.items())),
            "failures": [{"locator": loc, "code": c, "message": m} for loc, c, m in self.failures],
            "elapsed_s": round(self.elapsed_s, 3),
            "images_per_s": round(self.images_per_s, 3),
            "faces_per_s": round(self.faces_per_s, 3),
        }


@dataclass(slots=True)
class _Pending:
    item: SourceItem
    sha256: str | None = None
    size: int = 0
    future: Future[Analysis] | None = None
    error: FaceAtlasError | None = None


class _Run:
    def __init__(
        self,
        catalog: Catalog,
        index: VectorIndex,
        source: Source,
        executor: Executor,
        options: IngestOptions,
        face_filter: FaceFilter | None,
        progress: Callable[[IngestProgress], None] | None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.source = source
        self.executor = executor
        self.options = options
        self.face_filter = face_filter
        self.progress = progress
        with catalog.writer() as w:
            self.source_id = w.ensure_source(source.kind, source.locator)
            self.run_id = w.start_run(self.source_id)
        self.report = IngestReport(run_id=self.run_id, source=source.locator)
        self.total = source.count_hint()
        self.inflight: set[str] = set()
        self.new_ids: list[np.ndarray] = []
        self.new_vectors: list[np.ndarray] = []
        self.watermark = 0
        self.since_checkpoint = 0
        self.done = 0

    def execute(self) -> IngestReport:
        started = time.perf_counter()
        pending: deque[_Pending] = deque()
        writer_batch: list[_Pending] = []
        status = "failed"
        try:
            for item in self.source.items():
                entry = self._prepare(item)
                if entry is None:
                    continue
                pending.append(entry)
                while len(pending) >= self.options.window:
                    writer_batch.append(self._await(pending.popleft()))
                    if len(writer_batch) >= self.options.commit_every:
                        self._commit(writer_batch)
                        writer_batch = []
            while pending:
                writer_batch.append(self._await(pending.popleft()))
                if len(writer_batch) >= self.options.commit_every:
                    self._commit(writer_batch)
                    writer_batch = []
            self._commit(writer_batch)
            status = "finished"
        finally:
            self.executor.close()
            self._checkpoint()
            self.report.elapsed_s = time.perf_counter() - started
            with self.catalog.writer() as w:
                w.finish_run(self.run_id, status, dict(self.report.counts))
        return self.report

    def _prepare(self, item: SourceItem) -> _Pending | None:
        """Cheap checks in the writer process; only new content reaches a worker."""
        counts = self.report.counts
        counts["items"] += 1
        if (
            item.file_size is not None
            and item.file_mtime_ns is not None
            and self.catalog.known_file(
                self.source_id, item.locator, item.file_size, item.file_mtime_ns
            )
        ):
            counts["unchanged"] += 1
            self._tick()
            return None
        entry = _Pending(item=item)
        try:
            data = self.source.read(item)
        except FaceAtlasError as exc:
            entry.error = exc
            return entry
        entry.sha256 = hashlib.sha256(data).hexdigest()
        entry.size = len(data)
        if entry.sha256 in self.inflight or self.catalog.image_id_for_sha(entry.sha256) is not None:
            return entry  # sighting only; resolved after the first copy is written
        self.inflight.add(entry.sha256)
        entry.future = self.executor.submit(data)
        return entry

    def _await(self, entry: _Pending) -> _Pending:
        """Block until the entry's analysis is done: the backpressure on the source."""
        if entry.future is not None:
            wait([entry.future])
        return entry

    def _commit(self, batch: list[_Pending]) -> None:
        if not batch:
            return
        ids: list[int] = []
        vectors: list[np.ndarray] = []
        with self.catalog.writer() as w:
            for entry in batch:
                self._write(w, entry, ids, vectors)
        if ids:
            self.index.add(np.asarray(ids, dtype=np.int64), np.stack(vectors))
        for entry in batch:
            if entry.sha256:
                self.inflight.discard(entry.sha256)
        self.since_checkpoint += len(batch)
        if self.since_checkpoint >= self.options.index_checkpoint_every:
            self._checkpoint()

    def _write(
        self, w: CatalogWriter, entry: _Pending, ids: list[int], vectors: list[np.ndarray]
    ) -> None:
        counts = self.report.counts
        item = entry.item
        if entry.error is not None:
            self._fail(w, item, entry.error.code, entry.error.message)
            return
        assert entry.sha256 is not None  # set whenever there is no error
        sighting = NewSighting(
            source_id=self.source_id,
            locator=item.locator,
            page_url=item.page_url,
            page_title=item.page_title,
            alt_text=item.alt_text,
            caption=item.caption,
            http_last_modified=item.http_last_modified,
            file_size=item.file_size,
            file_mtime_ns=item.file_mtime_ns,
        )
        if entry.future is None:
            image_id = w.image_id_for_sha(entry.sha256)
            if image_id is None:  # the first copy failed to decode: so does this one
                self._fail(w, item, "duplicate_of_failed", "same content as an item that failed")
                return
            w.add_sighting(image_id, sighting)
            w.clear_failure(self.source_id, item.locator)
            counts["duplicates"] += 1
            self._tick()
            return
        analysis = _outcome(entry.future)
        if analysis.error_code is not None:
            self._fail(w, item, analysis.error_code, analysis.error_message or "")
            return
        faces = list(analysis.faces)
        if self.face_filter is not None:
            kept = self.face_filter(faces)
            counts["blocked_faces"] += len(faces) - len(kept)
            faces = kept
        image_id, written = w.add_image(
            sha256=entry.sha256,
            byte_size=entry.size,
            width=analysis.width,
            height=analysis.height,
            format=analysis.format,
            faces=faces,
            model_id=self.options.model_id,
        )
        w.add_sighting(image_id, sighting)
        w.clear_failure(self.source_id, item.locator)
        counts["new_images"] += 1
        counts["faces"] += len(faces)
        if not faces:
            counts["no_face"] += 1
        for face, (face_id, embedding_id) in zip(faces, written, strict=True):
            ids.append(face_id)
            vectors.append(face.embedding)
            self.watermark = max(self.watermark, embedding_id)
        self._tick()

    def _fail(self, w: CatalogWriter, item: SourceItem, code: str, message: str) -> None:
        w.record_failure(self.source_id, item.locator, code, message)
        self.report.counts["failed"] += 1
        self.report.counts[f"failed:{code}"] += 1
        self.report.failures.append((item.locator, code, message))
        self._tick()

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            faces = self.report.counts["faces"]
            self.progress(IngestProgress(done=self.done, total=self.total, faces=faces))

    def _checkpoint(self) -> None:
        self.since_checkpoint = 0
        _, watermark = self.catalog.embedding_watermark(self.options.model_id)
        self.index.save(watermark)


def _outcome(future: Future[Analysis]) -> Analysis:
    try:
        return future.result()
    except BrokenProcessPool:
        return Analysis(
            error_code="worker_crashed", error_message="the worker process died on this item"
        )


def run_ingest(
    catalog: Catalog,
    index: VectorIndex,
    source: Source,
    executor: Executor,
    options: IngestOptions,
    *,
    face_filter: FaceFilter | None = None,
    progress: Callable[[IngestProgress], None] | None = None,
) -> IngestReport:
    """Ingest every item of ``source``; per-item failures are recorded, never raised."""
    return _Run(catalog, index, source, executor, options, face_filter, progress).execute()
