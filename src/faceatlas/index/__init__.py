"""Vector indexes behind the :class:`VectorIndex` protocol."""

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
