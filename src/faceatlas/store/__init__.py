"""The catalog (SQL) behind every atlas."""

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
