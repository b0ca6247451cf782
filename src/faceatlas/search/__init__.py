"""Probe photo -> candidate faces -> typed results."""

from faceatlas.search.results import Hit, ProbeFace, SearchResult

__all__ = ["Hit", "ProbeFace", "SearchResult"]
