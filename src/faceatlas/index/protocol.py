"""The vector index seam: ids and unit vectors in, named hits out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from faceatlas.types import Vectors, record

__all__ = ["IndexHit", "IndexState", "VectorIndex", "VectorLookup"]

Ids = npt.NDArray[np.int64]

VectorLookup = Callable[[Sequence[int]], Mapping[int, npt.NDArray[np.float32]]]
"""Exact stored vectors by id (the catalog's float32 embeddings); missing ids are left out."""


@record
class IndexHit:
    """One neighbour: the stored id and its inner-product similarity to the query."""

    id: int
    similarity: float


@record
class IndexState:
    """What an index holds, saved beside it so a reopened atlas can check it against the catalog."""

    model_id: str
    dim: int
    count: int
    watermark: int
    """Highest catalog embedding id the index has seen."""


@runtime_checkable
class VectorIndex(Protocol):
    @property
    def dim(self) -> int: ...

    @property
    def model_id(self) -> str: ...

    def __len__(self) -> int: ...

    def reset(self) -> None:
        """Drop every vector (before a rebuild)."""
        ...

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add ``vectors`` (float32 ``(n, dim)``, unit norm) under ``ids`` (int64 ``(n,)``)."""
        ...

    def remove(self, ids: Ids) -> int:
        """Remove ``ids``; returns how many were present."""
        ...

    def search(self, queries: Vectors, k: int) -> list[list[IndexHit]]:
        """Top ``k`` hits for each query row, best first."""
        ...

    def save(self, watermark: int) -> None:
        """Persist the index, recording the catalog watermark it reflects."""
        ...

    def state(self) -> IndexState | None:
        """The state last saved, or ``None`` when nothing was saved."""
        ...

    def stats(self) -> dict[str, Any]:
        """Backend, spec, count and memory figures (``bytes_per_vector``), JSON-ready."""
        ...

    def needs_rebuild(self) -> bool:
        """True when the index should be rebuilt from the catalog (e.g. it outgrew its training)."""
        ...

    def close(self) -> None:
        """Release connections and servers; the index is unusable afterwards."""
        ...
