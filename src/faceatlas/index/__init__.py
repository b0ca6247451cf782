"""Vector indexes behind the :class:`VectorIndex` protocol."""

from faceatlas.index.flat import FlatIndex
from faceatlas.index.protocol import IndexHit, IndexState, VectorIndex

__all__ = ["FlatIndex", "IndexHit", "IndexState", "VectorIndex"]
