"""The catalog (SQL) behind every atlas.

The names below load with their module on first use (:mod:`faceatlas.lazy`): reading an
atlas's counts (:mod:`faceatlas.store.summary`) does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faceatlas.lazy import lazy_exports

if TYPE_CHECKING:
    from faceatlas.store.catalog import Catalog, CatalogWriter, NewSighting, utc_now
    from faceatlas.store.records import FaceRecord, ImageRecord, SightingRecord

__all__ = [
    "Catalog",
    "CatalogWriter",
    "FaceRecord",
    "ImageRecord",
    "NewSighting",
    "SightingRecord",
    "utc_now",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "faceatlas.store.catalog": ("Catalog", "CatalogWriter", "NewSighting", "utc_now"),
        "faceatlas.store.records": ("FaceRecord", "ImageRecord", "SightingRecord"),
    },
)
