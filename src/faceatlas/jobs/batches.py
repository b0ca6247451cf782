"""Batch searches run as background jobs, one at a time, beside the ingestion jobs.

The services hand over a *work* function (it runs the accountable searches and returns the
combined report) with the batch's case, purpose, user and size; this runner keeps the job's
row in ``search_batches`` (queued, running with progress, finished with its report, failed),
runs one batch at a time in its own thread, and holds at most :data:`MAX_QUEUED` batches
waiting, their probe photos in memory only. Batches a stopped process left unfinished read
``interrupted``; their probes are gone, so they are run again by submitting them again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from faceatlas.errors import FaceAtlasError, RateLimitedError
from faceatlas.jobs.worker import WorkQueue
from faceatlas.store.batches import BatchRecord, BatchStore
from faceatlas.store.rows import Database

__all__ = ["MAX_QUEUED", "BatchRunner", "BatchWork", "Progress"]

MAX_QUEUED = 4
"""Batches waiting at most; more are refused (``rate_limited``) until one finishes."""

Progress = Callable[[int, int], None]
"""``(probes done, probes failed)``, called as a batch goes."""
BatchWork = Callable[[Progress], dict[str, Any]]
"""Runs a batch, reporting progress; returns its combined report (JSON-ready)."""


class BatchRunner(WorkQueue[BatchWork, BatchRecord]):
    """The queue of batch searches and the thread that runs them."""

    what = "batch search"
    noun = "batch"
    thread_name = "search-batches"
    interrupted = "the server stopped before the batch finished; submit it again"
    poll_s = 0.05
    rows: BatchStore

    def __init__(self, db: Database) -> None:
        super().__init__(BatchStore(db))
        self._waiting = threading.BoundedSemaphore(MAX_QUEUED)

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
        self._put(batch_id, work)
        return self.get(batch_id)

    def _row(self, batch_id: int) -> BatchRecord | None:
        return self.rows.get(batch_id)

    def report(self, batch_id: int) -> dict[str, Any] | None:
        """The batch's combined report once it finished, else ``None``."""
        return self.rows.report(batch_id)

    def newest(self, created_by: str, limit: int = 20) -> list[BatchRecord]:
        return self.rows.newest(created_by, limit)

    # --- worker ----------------------------------------------------------------------------

    def _taken(self, batch_id: int) -> None:
        self._waiting.release()

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
