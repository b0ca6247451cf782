"""What the index backends share: input checks, the saved state, and FAISS file plumbing.

:class:`IndexBase` holds a backend's model id and dimension, refuses vectors and
queries of another shape, and checks a saved :class:`IndexState` against both.
:class:`FaissIndexBase` adds what the two FAISS backends share: the index file and
its JSON sidecar under ``<dir>/<model_id><suffix>``, the exact ``IDMap2,Flat``
index they start from, removal by id and the raw ``(D, I)`` to named hits step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from faceatlas.errors import FaceIndexError, ModelMismatchError
from faceatlas.index.files import write_index_files
from faceatlas.index.protocol import Ids, IndexHit, IndexState
from faceatlas.index.saved import state_file
from faceatlas.types import Vectors

__all__ = ["FaissIndexBase", "IndexBase", "faiss_hits"]


class IndexBase:
    """A backend's model id and dimension, its input checks and its last saved state."""

    def __init__(self, model_id: str, dim: int) -> None:
        self._model_id = model_id
        self._dim = dim
        self._saved: IndexState | None = None

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        return self._model_id

    def state(self) -> IndexState | None:
        return self._saved

    def _checked_vectors(self, ids: Ids, vectors: Vectors) -> Vectors:
        """``vectors`` as contiguous float32 ``(len(ids), dim)``; else an error."""
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != self._dim:
            raise ModelMismatchError(
                f"vectors of shape {vecs.shape} cannot join a {self._dim}-d {self._model_id} index"
            )
        if vecs.shape[0] != len(ids):
            raise FaceIndexError("ids and vectors differ in length")
        return vecs

    def _checked_queries(self, queries: Vectors) -> Vectors:
        """``queries`` as contiguous float32 ``(n, dim)``; else an error."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self._dim:
            raise ModelMismatchError(f"query of shape {q.shape} against a {self._dim}-d index")
        return q

    def _check_saved(self, state: IndexState, where: Path, stored_dim: int | None = None) -> None:
        """Refuse a saved index of another model or dimension (``stored_dim``: the index's own)."""
        dim_ok = state.dim == self._dim and stored_dim in (None, self._dim)
        if state.model_id != self._model_id or not dim_ok:
            raise ModelMismatchError(
                f"index at {where} holds {state.model_id}/{state.dim}-d vectors, "
                f"expected {self._model_id}/{self._dim}-d"
            )


class FaissIndexBase(IndexBase):
    """A FAISS index saved as ``<dir>/<model_id><suffix>.faiss`` with a ``.json`` sidecar."""

    suffix: ClassVar[str] = ""

    def __init__(self, directory: Path, model_id: str, dim: int) -> None:
        import faiss

        super().__init__(model_id, dim)
        self._faiss = faiss
        self.directory = directory
        self._index: Any = self._fresh()

    @property
    def index_path(self) -> Path:
        return self.directory / f"{self._model_id}{self.suffix}.faiss"

    @property
    def state_path(self) -> Path:
        return state_file(self.directory, self._model_id, self.suffix)

    def _fresh(self) -> Any:
        """An empty exact index (``IDMap2,Flat``)."""
        return self._faiss.IndexIDMap2(self._faiss.IndexFlatIP(self._dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def remove(self, ids: Ids) -> int:
        if len(ids) == 0:
            return 0
        selector = self._faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        return int(self._index.remove_ids(selector))

    def close(self) -> None:
        self._index = self._fresh()

    def _read_saved(self, state_key: str | None) -> tuple[IndexState, dict[str, Any], Any] | None:
        """The saved state, the whole sidecar and the index, when both files are there, read
        and agree on the count (``state_key``: where the sidecar keeps the state; ``None``:
        the sidecar is the state). ``None`` means rebuild from the catalog."""
        if not (self.index_path.is_file() and self.state_path.is_file()):
            return None
        try:
            raw = json.loads(self.state_path.read_text())
            state = IndexState(**(raw if state_key is None else raw[state_key]))
            index = self._faiss.read_index(str(self.index_path))
        except (OSError, ValueError, TypeError, KeyError, RuntimeError):
            return None  # unreadable: treated as absent, and rebuilt from the catalog
        self._check_saved(state, self.index_path, index.d)
        if index.ntotal != state.count:
            return None
        return state, raw, index

    def _write_saved(self, sidecar: dict[str, Any]) -> None:
        write_index_files(self._faiss, self._index, self.index_path, self.state_path, sidecar)


def faiss_hits(sims: np.ndarray, ids: np.ndarray) -> list[list[IndexHit]]:
    """FAISS's ``(D, I)`` as named hits per query row, dropping its ``-1`` padding."""
    return [
        [IndexHit(int(i), float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0]
        for srow, irow in zip(sims, ids, strict=True)
    ]
