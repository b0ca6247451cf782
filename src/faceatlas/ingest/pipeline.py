"""Ingestion: source -> fetch -> dedupe -> analysis in workers -> catalog + index.

Stages run concurrently with bounded queues: up to ``fetch_threads`` reads
(HTTP fetches, WARC records, files) run in threads, decode/detect/embed run
in the executor's workers (in groups of images whose faces are embedded together),
and writes happen in the calling process only, in source order, in transactions
of ``commit_every`` images. At most ``window`` items are in flight at once, and no
new item is read while the fetched files held for analysis reach ``window_bytes``, so
memory stays flat however large the source and its files.
Vectors reach the index after their transaction commits. A kill at any point
leaves a consistent catalog, and the index is caught up from the catalog when
the atlas is next opened. A rerun skips what is already stored (and, for
stable-order sources, every item before the committed checkpoint), so it
resumes rather than restarts.

Exact copies (same SHA-256) become sightings of the image already stored
without being analysed. Near-duplicates (perceptual hash within
``near_duplicate_bits``, same aspect ratio) are analysed, and fold into the
stored image as sightings when their faces are that image's faces; they are
never stored or indexed twice.

Items on a taken-down domain (image URL or page URL) are refused before they
are read and recorded per item as ``failed:taken_down``; the list of such
domains is read when the run starts and again before each batch is written, so
an item fetched before a takedown made during the run is not stored either.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from faceatlas.errors import FaceAtlasError, TakenDownError
from faceatlas.index.protocol import VectorIndex
from faceatlas.ingest.dedupe import Duplicates, Loaded, load_item
from faceatlas.ingest.inflight import Pending, held_bytes
from faceatlas.ingest.media import count_video
from faceatlas.ingest.report import IngestOptions, IngestProgress, IngestReport
from faceatlas.ingest.source import CommitAwareSource, ResumableSource, Source, SourceItem
from faceatlas.ingest.takedown import TakedownList
from faceatlas.ingest.worker import Executor, outcome
from faceatlas.store.catalog import Catalog, CatalogWriter, NewSighting
from faceatlas.types import AnalyzedFace, record_as

__all__ = ["FaceFilter", "IngestOptions", "IngestProgress", "IngestReport", "run_ingest"]

FaceFilter = Callable[[list[AnalyzedFace]], list[AnalyzedFace]]
"""Drops faces that must never be stored (the opt-out blocklist plugs in here)."""


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
        takedowns: TakedownList | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.source = source
        self.executor = executor
        self.options = options
        self.face_filter = face_filter
        self.progress = progress
        self.takedowns = takedowns
        if takedowns is not None:
            takedowns.refresh()
        with catalog.writer() as w:
            self.source_id = w.ensure_source(source.kind, source.locator)
            self.run_id = w.start_run(self.source_id)
        self.report = IngestReport(run_id=self.run_id, source=source.locator)
        self.total = source.count_hint()
        self.fingerprint = source.fingerprint if isinstance(source, ResumableSource) else None
        self.dupes = Duplicates(
            catalog,
            options.near_duplicate_bits,
            options.model_id,
            options.same_face_min_similarity,
        )
        self.watermark = 0
        self.since_checkpoint = 0
        self.done = 0
        self.started = time.perf_counter()

    def execute(self) -> IngestReport:
        status = "failed"
        fetch_pool = ThreadPoolExecutor(
            max_workers=self.options.fetch_threads, thread_name_prefix="ingest-fetch"
        )
        try:
            self._pump(fetch_pool)
            status = "finished"
        finally:
            fetch_pool.shutdown(wait=True, cancel_futures=True)
            self.executor.close()
            self._checkpoint()
            self.report.elapsed_s = time.perf_counter() - self.started
            with self.catalog.writer() as w:
                w.finish_run(self.run_id, status, dict(self.report.counts))
        return self.report

    def _items(self) -> Iterator[tuple[int, SourceItem]]:
        skip = 0
        if self.fingerprint is not None:
            skip = self.catalog.read_checkpoint(self.source_id, self.fingerprint)
        for position, item in enumerate(self.source.items()):
            if position < skip:  # committed by an earlier run: not even read
                self.report.counts["items"] += 1
                self.report.counts["resumed"] += 1
                self._tick()
                continue
            yield position, item

    def _pump(self, fetch_pool: ThreadPoolExecutor) -> None:
        """Fill the window, prepare fetched items in order, write analysed items in order."""
        window = self.options.window
        fetching: deque[Pending] = deque()
        ready: deque[Pending] = deque()
        batch: list[Pending] = []
        items = self._items()
        exhausted = False
        while True:
            while (
                not exhausted
                and len(fetching) + len(ready) < window
                and sum(not e.load.done() for e in fetching) < self.options.fetch_threads
                and held_bytes(fetching, ready) < self.options.window_bytes
            ):
                nxt = next(items, None)
                if nxt is None:
                    exhausted = True
                    break
                entry = self._admit(fetch_pool, *nxt)
                if entry is not None:
                    fetching.append(entry)
            progressed = False
            while fetching and fetching[0].load.done():
                entry = fetching.popleft()
                self._prepare(entry)
                ready.append(entry)
                progressed = True
            while ready and (ready[0].future is None or ready[0].future.done()):
                batch.append(ready.popleft())
                progressed = True
                if len(batch) >= self.options.commit_every:
                    self._commit(batch)
                    batch = []
            if exhausted and not fetching and not ready:
                break
            if not progressed:  # the window is full (or the source is done): block on a head
                if not fetching:
                    self.executor.flush()  # no item can join the group held for analysis now
                heads: list[Future[Any]] = []
                if fetching:
                    heads.append(fetching[0].load)
                if ready and ready[0].future is not None:
                    heads.append(ready[0].future)
                wait(heads, return_when=FIRST_COMPLETED)
        self._commit(batch)

    def _admit(
        self, fetch_pool: ThreadPoolExecutor, position: int, item: SourceItem
    ) -> Pending | None:
        """Cheap checks in the writer process; the read itself runs in a fetch thread."""
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
        refused = self._refusal(item)
        if refused is not None:  # never read: recorded in order with the others
            load: Future[Loaded] = Future()
            load.set_exception(refused)
            return Pending(item=item, position=position, load=load)
        load = fetch_pool.submit(load_item, self.source, item, self.options.max_pixels)
        return Pending(item=item, position=position, load=load)

    def _refusal(self, item: SourceItem) -> TakenDownError | None:
        if self.takedowns is None:
            return None
        try:
            self.takedowns.check_item(item)
        except TakenDownError as exc:
            return exc
        return None

    def _prepare(self, entry: Pending) -> None:
        """In source order: decide exact copy, near copy or new content to analyse."""
        try:
            loaded = entry.load.result()
        except FaceAtlasError as exc:
            entry.error = exc
            return
        entry.loaded = loaded
        self.report.counts["fetched"] += 1
        if self.dupes.is_exact_copy(loaded.sha256):
            loaded.data = None  # a sighting of the stored (or, once written, in-flight) image
            return
        # a near copy is a candidate only: folded at write time if its faces agree
        entry.near, entry.near_sha = self.dupes.candidates(loaded.phash)
        assert loaded.data is not None
        self.dupes.start(loaded)
        entry.future = self.executor.submit(loaded.data)
        loaded.data = None  # the executor holds it now; drop ours

    def _commit(self, batch: list[Pending]) -> None:
        if not batch:
            return
        ids: list[int] = []
        vectors: list[np.ndarray] = []
        if self.takedowns is not None:  # a takedown made during the run holds from here
            self.takedowns.refresh()
        with self.catalog.writer() as w:
            for entry in batch:
                self._write(w, entry, ids, vectors)
            if self.fingerprint is not None:
                w.write_checkpoint(self.source_id, self.fingerprint, batch[-1].position + 1)
        if ids:
            self.index.add(np.asarray(ids, dtype=np.int64), np.stack(vectors))
        for entry in batch:
            if entry.loaded is not None:
                self.dupes.finish(entry.loaded)
        if isinstance(self.source, CommitAwareSource):
            self.source.committed([entry.item for entry in batch])
        self.since_checkpoint += len(batch)
        if self.since_checkpoint >= self.options.index_checkpoint_every:
            self._checkpoint()

    def _write(
        self, w: CatalogWriter, entry: Pending, ids: list[int], vectors: list[np.ndarray]
    ) -> None:
        counts = self.report.counts
        item = entry.item
        if entry.error is None:
            entry.error = self._refusal(item)  # taken down since it was read
        if entry.error is not None:
            self._fail(w, item, entry.error.code, entry.error.message)
            return
        loaded = entry.loaded
        assert loaded is not None  # set whenever there is no error
        sighting = record_as(
            NewSighting,
            item,
            source_id=self.source_id,
            http_last_modified=loaded.http_last_modified,
        )
        if entry.future is None:
            self._write_copy(w, entry, loaded, sighting)
            return
        analysis = outcome(entry.future)
        if analysis.error_code is not None:
            self._fail(w, item, analysis.error_code, analysis.error_message or "")
            return
        faces = list(analysis.faces)
        if self.face_filter is not None:
            kept = self.face_filter(faces)
            counts["blocked_faces"] += len(faces) - len(kept)
            if faces and not kept:  # every face opted out: nothing of this image is kept
                counts["blocked_images"] += 1
                self._tick()
                return
            faces = kept
        if self._fold(w, entry, loaded, sighting, faces):
            return
        image_id, written = w.add_image(
            sha256=loaded.sha256,
            byte_size=loaded.size,
            width=analysis.width,
            height=analysis.height,
            format=analysis.format,
            faces=faces,
            model_id=self.options.model_id,
        )
        self.dupes.record(w, image_id, loaded, 0)
        w.add_sighting(image_id, sighting, new_image=True)
        w.clear_failure(self.source_id, item.locator)
        counts["new_images"] += 1
        counts["faces"] += len(faces)
        count_video(counts, analysis.video)
        if not faces:
            counts["no_face"] += 1
        for face, (face_id, embedding_id) in zip(faces, written, strict=True):
            ids.append(face_id)
            vectors.append(face.embedding)
            self.watermark = max(self.watermark, embedding_id)
        self._tick()

    def _write_copy(
        self, w: CatalogWriter, entry: Pending, loaded: Loaded, sighting: NewSighting
    ) -> None:
        """An exact copy: one more sighting of the stored image."""
        image_id = w.image_for_content(loaded.sha256)
        if image_id is None:  # the first copy failed to decode: so does this one
            self._fail(w, entry.item, "duplicate_of_failed", "same content as an item that failed")
            return
        w.add_sighting(image_id, sighting)
        w.clear_failure(self.source_id, entry.item.locator)
        self.report.counts["duplicates"] += 1
        self._tick()

    def _fold(
        self,
        w: CatalogWriter,
        entry: Pending,
        loaded: Loaded,
        sighting: NewSighting,
        faces: list[AnalyzedFace],
    ) -> bool:
        """Fold a near-duplicate into the stored image when its faces are that image's faces."""
        embeddings = [f.embedding for f in faces]
        copy = self.dupes.near_copy(w, entry.near, entry.near_sha, embeddings)
        if copy is None:
            return False
        if not copy.same_faces:
            self.report.counts["near_duplicates_rejected"] += 1
            return False
        self.dupes.record(w, copy.image_id, loaded, copy.bits)
        w.add_sighting(copy.image_id, sighting)
        w.clear_failure(self.source_id, entry.item.locator)
        self.report.counts["near_duplicates"] += 1
        self._tick()
        return True

    def _fail(self, w: CatalogWriter, item: SourceItem, code: str, message: str) -> None:
        w.record_failure(self.source_id, item.locator, code, message)
        self.report.counts["failed"] += 1
        self.report.counts[f"failed:{code}"] += 1
        if len(self.report.failures) < self.report.max_failures_kept:
            self.report.failures.append((item.locator, code, message))
        self._tick()

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            faces = self.report.counts["faces"]
            elapsed = time.perf_counter() - self.started
            self.progress(
                IngestProgress(done=self.done, total=self.total, faces=faces, elapsed_s=elapsed)
            )

    def _checkpoint(self) -> None:
        self.since_checkpoint = 0
        _, watermark = self.catalog.embedding_watermark(self.options.model_id)
        self.index.save(watermark)


def run_ingest(
    catalog: Catalog,
    index: VectorIndex,
    source: Source,
    executor: Executor,
    options: IngestOptions,
    *,
    face_filter: FaceFilter | None = None,
    progress: Callable[[IngestProgress], None] | None = None,
    takedowns: TakedownList | None = None,
) -> IngestReport:
    """Ingest every item of ``source``; per-item failures are recorded, never raised.

    With ``takedowns``, items on a taken-down domain are refused (``failed:taken_down``).
    """
    run = _Run(catalog, index, source, executor, options, face_filter, progress, takedowns)
    return run.execute()
