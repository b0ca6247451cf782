"""Batch searches run as background jobs, one at a time, beside the ingestion jobs.

The services hand over a *work* function (it runs the accountable searches and returns the
combined report) with the batch's case, purpose, user and size; this runner keeps the job's
row in ``search_batches`` (queued, running with progress, finished with its report, failed),
runs one batch at a time in its own thread, and holds at most :data:`MAX_QUEUED` batches
waiting, their probe photos in memory only. Batches a stopped process left unfinished read
``interrupted``; their probes are gone, so they are run again by submitting them again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from faceatlas.errors import FaceAtlasError, NotFoundError, RateLimitedError
from faceatlas.store.batches import BatchRecord, BatchStore
from faceatlas.store.rows import Database

__all__ = ["MAX_QUEUED", "BatchRunner", "BatchWork", "Progress"]

log = logging.getLogger(__name__)

MAX_QUEUED = 4
"""Batches waiting at most; more are refused (``rate_limited``) until one finishes."""

Progress = Callable[[int, int], None]
"""``(probes done, probes failed)``, called as a batch goes."""
BatchWork = Callable[[Progress], dict[str, Any]]
"""Runs a batch, reporting progress; returns its combined report (JSON-ready)."""


class BatchRunner:
    """The queue of batch searches and the thread that runs them."""

    def __init__(self, db: Database) -> None:
        self.rows = BatchStore(db)
        self._queue: queue.Queue[tuple[int, BatchWork] | None] = queue.Queue()
        self._waiting = threading.BoundedSemaphore(MAX_QUEUED)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Mark batches left unfinished by an earlier process, then start the thread."""
        self.rows.interrupt_unfinished(
            "the server stopped before the batch finished; submit it again"
        )
        self._ensure_thread()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="search-batches", daemon=True
                )
                self._thread.start()

    # --- API --------------------------------------------------------------------------------

    def submit(
        self, case_number: str, purpose: str, created_by: str, total: int, work: BatchWork
    ) -> BatchRecord:
        """Queue a batch of ``total`` probes; ``rate_limited`` while :data:`MAX_QUEUED` wait."""
        if not self._waiting.acquire(blocking=False):
            raise RateLimitedError(
                f"{MAX_QUEUED} batch searches are waiting already; try again in a minute",
                retry_after_s=60,
            )
        batch_id = self.rows.add(case_number, purpose, created_by, total)
        self._ensure_thread()
        self._queue.put((batch_id, work))
        return self.get(batch_id)

    def get(self, batch_id: int) -> BatchRecord:
        batch = self.rows.get(batch_id)
        if batch is None:
            raise NotFoundError(f"batch {batch_id} does not exist")
        return batch

    def report(self, batch_id: int) -> dict[str, Any] | None:
        """The batch's combined report once it finished, else ``None``."""
        return self.rows.report(batch_id)

    def newest(self, created_by: str, limit: int = 20) -> list[BatchRecord]:
        return self.rows.newest(created_by, limit)

    def wait(self, batch_id: int, timeout_s: float = 60.0) -> BatchRecord:
        """Block until the batch ends (tests and scripts)."""
        deadline = time.monotonic() + timeout_s
        while True:
            batch = self.get(batch_id)
            if batch.status not in ("queued", "running") or time.monotonic() > deadline:
                return batch
            time.sleep(0.05)

    # --- worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch_id, work = item
            self._waiting.release()
            try:
                self._run(batch_id, work)
            except Exception:  # the worker must survive any batch
                log.exception("batch search %d crashed", batch_id)
                self.rows.fail(batch_id, "internal error")

    def _run(self, batch_id: int, work: BatchWork) -> None:
        self.rows.start(batch_id)
        counts = [0, 0]

        def progress(done: int, failed: int) -> None:
            counts[:] = [done, failed]
            self.rows.progress(batch_id, done, failed)

        try:
            report = work(progress)
        except FaceAtlasError as exc:
            self.rows.fail(batch_id, f"{exc.code}: {exc.message}")
            return
        self.rows.finish(batch_id, report, *counts)
