"""What an atlas holds, read on its own: the gallery (catalog and index) and the threshold in
force, without the rest of the atlas (accounts, cases, privacy, ingestion) or the engine's
weights. ``faceatlas stats`` answers from here.

An embedded atlas (SQLite catalog, flat FAISS index: the defaults) is read without opening
it: the counts with ``sqlite3`` (:mod:`faceatlas.store.summary`), the index from its saved
sidecar (:mod:`faceatlas.index.saved`), the threshold from the settings, the stored
calibration or the shipped fair scorer's metadata (:mod:`faceatlas.search.threshold`). None of
NumPy, SQLAlchemy, FAISS or ONNX Runtime is imported. The index count given is the sidecar's,
and only when it is in step with the catalog (the count and highest id of the model's
embeddings, no erasure pending); any other atlas (another store or backend, a model other than
the engine's, an index to catch up or rebuild, a catalog to create or lacking a table read
here) is opened whole, as every other command opens it, and reported the same way.
"""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING, Any

from faceatlas.choices import IndexBackend
from faceatlas.config import Settings
from faceatlas.engine.names import model_of
from faceatlas.index.saved import INDEX_DIR, flat_stats, in_step, saved_state
from faceatlas.search.threshold import shipped_threshold, threshold_in_force
from faceatlas.store.summary import (
    CATALOG_FILE,
    META_DIM,
    META_INDEX_DIRTY,
    META_MODEL_ID,
    read_summary,
    threshold_meta_key,
)

if TYPE_CHECKING:
    from faceatlas.engine.card import ModelCard

__all__ = ["FAILURES_SHOWN", "atlas_inventory", "opened_inventory"]

FAILURES_SHOWN = 50
"""Recent ingest failures :func:`atlas_inventory` lists."""


def atlas_inventory(settings: Settings) -> dict[str, Any]:
    """Counts of what the atlas ``settings`` name holds, its index, the threshold in force and
    the most recent ingest failures (``Atlas.stats`` plus ``failures``)."""
    return _read_unopened(settings) or opened_inventory(settings)


def _read_unopened(settings: Settings) -> dict[str, Any] | None:
    """The inventory of an embedded atlas in step with itself, read without opening it;
    ``None`` where it has to be opened."""
    if settings.database_url is not None or settings.index_backend is not IndexBackend.FAISS_FLAT:
        return None
    model_id, dim = model_of(settings.engine)
    root = settings.atlas_dir
    summary = read_summary(root / CATALOG_FILE, model_id, failures=FAILURES_SHOWN)
    if summary is None:
        return None
    meta = summary.meta
    if (meta.get(META_MODEL_ID), meta.get(META_DIM)) != (model_id, str(dim)):
        return None  # a new atlas, or another model's: opening it says which
    saved = saved_state(root / INDEX_DIR, model_id)
    if saved is None or (saved.model_id, saved.dim) != (model_id, dim):
        return None
    held, catalog = (saved.count, saved.watermark), (summary.model_embeddings, summary.watermark)
    if not in_step(held, catalog, dirty=meta.get(META_INDEX_DIRTY) == "1"):
        return None
    calibrated = meta.get(threshold_meta_key(model_id))
    value, source = threshold_in_force(
        settings.min_similarity,
        None if calibrated is None else float(calibrated),
        shipped_threshold(model_id) if settings.fair_scoring else None,
        lambda: _card(model_id),
    )
    return {
        "atlas": str(root),
        "model_id": model_id,
        "embeddings_by_model": summary.embeddings_by_model,
        "catalog": summary.counts,
        "index": flat_stats(model_id, dim, saved.count),
        "threshold": {"value": value, "source": source},
        "failures": summary.failures,
    }


def _card(model_id: str) -> ModelCard:
    from faceatlas.engine import shipped_card  # the card imports NumPy: only when it is asked

    return shipped_card(model_id)


def opened_inventory(settings: Settings) -> dict[str, Any]:
    """The inventory of the gallery opened as every command opens it, which brings its index
    in step with the catalog first: what :func:`atlas_inventory` answers where it must open
    the atlas, and what it answers the same as where it need not."""
    from faceatlas.gallery import Gallery
    from faceatlas.search.searcher import Searcher

    with closing(Gallery.open(settings)) as gallery:
        # Only the threshold is asked of this searcher: it shows and stores nothing.
        searcher = Searcher(gallery, unblocked=lambda hits: hits, keep_probe=lambda _data: None)
        value, source = searcher.threshold()
        return {
            **gallery.inventory(),
            "threshold": {"value": value, "source": source},
            "failures": gallery.catalog.failures(limit=FAILURES_SHOWN),
        }
