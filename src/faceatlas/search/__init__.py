"""Probe photo -> candidate faces -> typed results.

The names below load with their module on first use (:mod:`faceatlas.lazy`): the threshold in
force (:mod:`faceatlas.search.threshold`) is read without NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faceatlas.lazy import lazy_exports

if TYPE_CHECKING:
    from faceatlas.search.fmr import FmrEstimate, FmrMapping
    from faceatlas.search.results import Hit, ProbeFace, SearchResult

__all__ = ["FmrEstimate", "FmrMapping", "Hit", "ProbeFace", "SearchResult"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "faceatlas.search.fmr": ("FmrEstimate", "FmrMapping"),
        "faceatlas.search.results": ("Hit", "ProbeFace", "SearchResult"),
    },
)
