"""Probe photo -> candidate faces -> typed results."""

from faceatlas.search.fmr import FmrEstimate, FmrMapping
from faceatlas.search.results import Hit, ProbeFace, SearchResult

__all__ = ["FmrEstimate", "FmrMapping", "Hit", "ProbeFace", "SearchResult"]
