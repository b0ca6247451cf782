"""Exact inner-product search with FAISS (``IDMap2,Flat``), saved as one file."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas.index.base import FaissIndexBase, faiss_hits
from faceatlas.index.protocol import Ids, IndexHit, IndexState
from faceatlas.index.saved import FLAT_SPEC, flat_stats
from faceatlas.types import Vectors

__all__ = ["FlatIndex"]


class FlatIndex(FaissIndexBase):
    """Exact search: the recall reference for every other backend.

    Files: ``<dir>/<model_id>.faiss`` and ``<dir>/<model_id>.json`` (the
    :class:`IndexState`). Both are written to a temporary name and renamed, so
    a crash leaves the previous complete pair or the new one, and a mismatch
    between them is detected on open.
    """

    spec = FLAT_SPEC

    def __init__(self, directory: Path, model_id: str, dim: int) -> None:
        super().__init__(directory, model_id, dim)
        saved = self._read_saved(state_key=None)
        if saved is not None:
            self._saved, _, self._index = saved

    def reset(self) -> None:
        self._index = self._fresh()

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        vecs = self._checked_vectors(ids, vectors)
        self._index.add_with_ids(vecs, np.ascontiguousarray(ids, dtype=np.int64))

    def search(self, queries: Vectors, k: int) -> list[list[IndexHit]]:
        q = self._checked_queries(queries)
        if len(self) == 0 or k <= 0:
            return [[] for _ in range(q.shape[0])]
        return faiss_hits(*self._index.search(q, min(k, len(self))))

    def save(self, watermark: int) -> None:
        state = IndexState(self._model_id, self._dim, len(self), watermark)
        self._write_saved(asdict(state))
        self._saved = state

    def stats(self) -> dict[str, Any]:
        return flat_stats(self._model_id, self._dim, len(self))

    def needs_rebuild(self) -> bool:
        return False
