"""Vector indexes behind the :class:`VectorIndex` protocol.

The names below load with their module on first use (:mod:`faceatlas.lazy`): reading a saved
index's state (:mod:`faceatlas.index.saved`) does not import FAISS or NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faceatlas.lazy import lazy_exports

if TYPE_CHECKING:
    from faceatlas.index.factory import open_index
    from faceatlas.index.flat import FlatIndex
    from faceatlas.index.ivf import IvfIndex, IvfOptions
    from faceatlas.index.milvus import MilvusIndex, MilvusOptions
    from faceatlas.index.protocol import IndexHit, IndexState, VectorIndex, VectorLookup

__all__ = [
    "FlatIndex",
    "IndexHit",
    "IndexState",
    "IvfIndex",
    "IvfOptions",
    "MilvusIndex",
    "MilvusOptions",
    "VectorIndex",
    "VectorLookup",
    "open_index",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "faceatlas.index.factory": ("open_index",),
        "faceatlas.index.flat": ("FlatIndex",),
        "faceatlas.index.ivf": ("IvfIndex", "IvfOptions"),
        "faceatlas.index.milvus": ("MilvusIndex", "MilvusOptions"),
        "faceatlas.index.protocol": ("IndexHit", "IndexState", "VectorIndex", "VectorLookup"),
    },
)
