"""The items an ingest run holds between reading and writing (:mod:`faceatlas.ingest.pipeline`),
and the file bytes they hold for analysis."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

from faceatlas.errors import FaceAtlasError
from faceatlas.ingest.dedupe import Loaded
from faceatlas.ingest.source import SourceItem
from faceatlas.ingest.worker import Analysis

__all__ = ["Pending", "held_bytes"]


@dataclass(slots=True)
class Pending:
    """One item between its read and its write: the read's future, then the analysis's."""

    item: SourceItem
    position: int
    load: Future[Loaded]
    loaded: Loaded | None = None
    future: Future[Analysis] | None = None
    error: FaceAtlasError | None = None
    near: tuple[int, int] | None = None
    """``(image_id, bits)`` of a stored image this is a near-duplicate of."""
    near_sha: tuple[str, int] | None = None
    """``(sha256, bits)`` of an in-flight image this is a near-duplicate of."""


def held_bytes(fetching: deque[Pending], ready: deque[Pending]) -> int:
    """Bytes of fetched files not yet analysed: being read (a file's size is known before its
    read), read and waiting for their turn, or handed to the executor (queued for a group or in
    a worker). A read of unknown size (a URL, a WARC record) counts once it is done: no more
    than ``fetch_threads`` reads are let in at once."""
    held = 0
    for entry in fetching:
        if not entry.load.done():
            held += entry.item.file_size or 0
        elif entry.load.exception() is None:
            held += entry.load.result().size
    for entry in ready:
        if entry.loaded is not None and entry.future is not None and not entry.future.done():
            held += entry.loaded.size
    return held
