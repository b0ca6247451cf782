"""Who may use the face engine and the serving index at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["EngineGate"]


class EngineGate:
    """A readers-writer gate over the face engine and the in-memory index.

    Searches, probe analysis and subject-access lookups run the engine and read the
    index: they enter :meth:`shared`. Anything that changes the index or what it may
    return (index sync after an ingest, erasure, opt-out decisions, retention,
    clustering) enters :meth:`exclusive` and runs alone.

    Shared entry lets several requests run at once only when the engine may be used
    from several threads (``FaceEngine.thread_safe``); otherwise they take turns, as
    exclusive ones do. A waiting writer goes first: once one waits, new readers wait
    behind it, so a steady stream of searches cannot hold back an index sync forever.
    """

    def __init__(self, concurrent: bool) -> None:
        self.concurrent = concurrent
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        if not self.concurrent:
            with self.exclusive():
                yield
            return
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
