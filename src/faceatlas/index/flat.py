"""Exact inner-product search with FAISS (``IDMap2,Flat``), saved as one file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas.errors import FaceIndexError, ModelMismatchError
from faceatlas.index.files import write_index_files
from faceatlas.index.protocol import Ids, IndexHit, IndexState
from faceatlas.types import Vectors

__all__ = ["FlatIndex"]


class FlatIndex:
    """Exact search: the recall reference for every other backend.

    Files: ``<dir>/<model_id>.faiss`` and ``<dir>/<model_id>.json`` (the
    :class:`IndexState`). Both are written to a temporary name and renamed, so
    a crash leaves the previous complete pair or the new one, and a mismatch
    between them is detected on open.
    """

    spec = "IDMap2,Flat"

    def __init__(self, directory: Path, model_id: str, dim: int) -> None:
        import faiss

        self._faiss = faiss
        self.directory = directory
        self._model_id = model_id
        self._dim = dim
        self._index: Any = None
        self._saved: IndexState | None = None
        self._load()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def index_path(self) -> Path:
        return self.directory / f"{self._model_id}.faiss"

    @property
    def state_path(self) -> Path:
        return self.directory / f"{self._model_id}.json"

    def _fresh(self) -> Any:
        return self._faiss.IndexIDMap2(self._faiss.IndexFlatIP(self._dim))

    def _load(self) -> None:
        self._index = self._fresh()
        self._saved = None
        if not (self.index_path.is_file() and self.state_path.is_file()):
            return
        try:
            state = IndexState(**json.loads(self.state_path.read_text()))
            index = self._faiss.read_index(str(self.index_path))
        except (OSError, ValueError, TypeError, RuntimeError):
            return  # unreadable: treated as absent, and rebuilt from the catalog
        if state.model_id != self._model_id or state.dim != self._dim or index.d != self._dim:
            raise ModelMismatchError(
                f"index at {self.index_path} holds {state.model_id}/{state.dim}-d vectors, "
                f"expected {self._model_id}/{self._dim}-d"
            )
        if index.ntotal != state.count:
            return
        self._index = index
        self._saved = state

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def reset(self) -> None:
        self._index = self._fresh()

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != self._dim:
            raise ModelMismatchError(
                f"vectors of shape {vecs.shape} cannot join a {self._dim}-d {self._model_id} index"
            )
        if vecs.shape[0] != len(ids):
            raise FaceIndexError("ids and vectors differ in length")
        self._index.add_with_ids(vecs, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: Ids) -> int:
        if len(ids) == 0:
            return 0
        selector = self._faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        return int(self._index.remove_ids(selector))

    def search(self, queries: Vectors, k: int) -> list[list[IndexHit]]:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self._dim:
            raise ModelMismatchError(f"query of shape {q.shape} against a {self._dim}-d index")
        if len(self) == 0 or k <= 0:
            return [[] for _ in range(q.shape[0])]
        sims, ids = self._index.search(q, min(k, len(self)))
        return [
            [IndexHit(int(i), float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0]
            for srow, irow in zip(sims, ids, strict=True)
        ]

    def save(self, watermark: int) -> None:
        state = IndexState(self._model_id, self._dim, len(self), watermark)
        write_index_files(self._faiss, self._index, self.index_path, self.state_path, asdict(state))
        self._saved = state

    def state(self) -> IndexState | None:
        return self._saved

    def stats(self) -> dict[str, Any]:
        return {
            "backend": "faiss-flat",
            "spec": self.spec,
            "model_id": self._model_id,
            "dim": self._dim,
            "count": len(self),
            "bytes_per_vector": self._dim * 4 + 8,
            "memory_bytes": len(self) * (self._dim * 4 + 8),
        }

    def needs_rebuild(self) -> bool:
        return False

    def close(self) -> None:
        self._index = self._fresh()
