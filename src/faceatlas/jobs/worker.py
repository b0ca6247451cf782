"""What the background runners share: queued work run one item at a time, in order, by one
daemon thread, each item's row (a :class:`~faceatlas.store.queued.QueuedStore`) saying where
it is. An item that crashes fails its row; the thread goes on with the next."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import ClassVar, Generic, Protocol, TypeVar

from faceatlas.errors import NotFoundError
from faceatlas.store.queued import UNFINISHED, QueuedStore

__all__ = ["WorkQueue"]

log = logging.getLogger(__name__)


class _Row(Protocol):
    @property
    def status(self) -> str: ...


W = TypeVar("W")
R = TypeVar("R", bound=_Row)


class WorkQueue(Generic[W, R]):
    """Items of work ``W`` queued under rows read as ``R``."""

    what: ClassVar[str]
    """What an item is, in log lines (``ingest job``)."""
    noun: ClassVar[str]
    """What an item is called where it is not found (``job``)."""
    thread_name: ClassVar[str]
    interrupted: ClassVar[str]
    """The error an item left unfinished by an earlier process reads."""
    poll_s: ClassVar[float] = 0.1

    def __init__(self, rows: QueuedStore) -> None:
        self.rows = rows
        self._queue: queue.Queue[tuple[int, W] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Mark items left unfinished by an earlier process, then start the thread."""
        self.rows.interrupt_unfinished(self.interrupted)
        self._ensure_thread()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)

    def get(self, row_id: int) -> R:
        found = self._row(row_id)
        if found is None:
            raise NotFoundError(f"{self.noun} {row_id} does not exist")
        return found

    def _row(self, row_id: int) -> R | None:
        raise NotImplementedError

    def wait(self, row_id: int, timeout_s: float = 60.0) -> R:
        """Block until the item ends (tests and scripts)."""
        deadline = time.monotonic() + timeout_s
        while True:
            item = self.get(row_id)
            if item.status not in UNFINISHED or time.monotonic() > deadline:
                return item
            time.sleep(self.poll_s)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name=self.thread_name, daemon=True
                )
                self._thread.start()

    def _put(self, row_id: int, work: W) -> None:
        self._queue.put((row_id, work))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            row_id, work = item
            self._taken(row_id)
            try:
                self._run(row_id, work)
            except Exception:  # the thread must survive any item
                log.exception("%s %d crashed", self.what, row_id)
                self._crashed(row_id)
                self.rows.fail(row_id, "internal error")
            finally:
                self._done(row_id)

    def _run(self, row_id: int, work: W) -> None:
        raise NotImplementedError

    def _taken(self, row_id: int) -> None:
        """The item leaves the queue and starts."""

    def _crashed(self, row_id: int) -> None:
        """The item crashed; its row is failed next."""

    def _done(self, row_id: int) -> None:
        """The item ended, however it ended."""
