"""What an atlas holds, read on its own: the gallery (catalog and index) and the threshold in
force, without the rest of the atlas (accounts, cases, privacy, ingestion) or the engine's
weights. ``faceatlas stats`` answers from here in a fraction of the time opening the whole
atlas takes."""

from __future__ import annotations

from contextlib import closing
from typing import Any

from faceatlas.config import Settings
from faceatlas.gallery import Gallery
from faceatlas.search.searcher import Searcher

__all__ = ["FAILURES_SHOWN", "atlas_inventory"]

FAILURES_SHOWN = 50
"""Recent ingest failures :func:`atlas_inventory` lists."""


def atlas_inventory(settings: Settings) -> dict[str, Any]:
    """Counts of what the atlas ``settings`` name holds, its index, the threshold in force and
    the most recent ingest failures (``Atlas.stats`` plus ``failures``)."""
    with closing(Gallery.open(settings)) as gallery:
        # Only the threshold is asked of this searcher: it shows and stores nothing.
        searcher = Searcher(gallery, unblocked=lambda hits: hits, keep_probe=lambda _data: None)
        value, source = searcher.threshold()
        return {
            **gallery.inventory(),
            "threshold": {"value": value, "source": source},
            "failures": gallery.catalog.failures(limit=FAILURES_SHOWN),
        }
