"""Similarity to estimated false-match rate, from a stored calibration.

The mapping holds, for a grid of similarities ``g``, how many of ``comparisons``
impostor comparisons (pairs of different people) scored ``>= g``. The estimate
for a similarity ``s`` uses the grid point at or below ``s``, so it never
understates the rate. The upper bound is the 95% Wilson bound, which stays
informative where no false match was observed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from faceatlas.types import record

__all__ = [
    "Z95",
    "FmrEstimate",
    "FmrMapping",
    "count_at",
    "counts_at_or_above",
    "grid_dict",
    "grid_of",
    "wilson_interval",
]

Z95 = 1.959963984540054


@record
class FmrEstimate:
    fmr: float
    fmr_upper: float


@record
class FmrMapping:
    """``false_matches[i]`` impostor scores were ``>= grid[i]`` (``grid`` ascending)."""

    grid: npt.NDArray[np.float64]
    false_matches: npt.NDArray[np.int64]
    comparisons: int

    def __post_init__(self) -> None:
        if self.comparisons <= 0:
            raise ValueError("a mapping needs impostor comparisons")
        if len(self.grid) != len(self.false_matches) or len(self.grid) < 2:
            raise ValueError("grid and counts must have the same length (at least 2)")
        if np.any(np.diff(self.grid) <= 0):
            raise ValueError("grid must be strictly ascending")
        if np.any(np.diff(self.false_matches) > 0):
            raise ValueError("false-match counts must not increase with similarity")

    @classmethod
    def from_scores(
        cls, impostor_scores: npt.NDArray[np.floating[Any]], step: float = 0.001
    ) -> FmrMapping:
        """Count impostor scores at or above each point of a ``[-1, 1]`` grid."""
        grid, above = counts_at_or_above(impostor_scores, step)
        return cls(grid, above, len(impostor_scores))

    def count_at(self, similarity: float) -> int:
        return count_at(self.grid, self.false_matches, similarity, self.comparisons)

    def estimate(self, similarity: float) -> FmrEstimate:
        k = self.count_at(similarity)
        return FmrEstimate(k / self.comparisons, wilson_interval(k, self.comparisons)[1])

    def as_dict(self) -> dict[str, Any]:
        return {
            **grid_dict(self.grid),
            "false_matches": self.false_matches.tolist(),
            "comparisons": self.comparisons,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FmrMapping:
        return cls(
            grid_of(data),
            np.asarray(data["false_matches"], dtype=np.int64),
            int(data["comparisons"]),
        )


def counts_at_or_above(
    scores: npt.NDArray[np.floating[Any]], step: float = 0.001
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """A ``[-1, 1]`` grid of ``step`` and, at each point, how many ``scores`` are ``>=`` it."""
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    grid = np.linspace(-1.0, 1.0, round(2.0 / step) + 1)
    above = len(ordered) - np.searchsorted(ordered, grid, side="left")
    return grid, above.astype(np.int64)


def count_at(
    grid: npt.NDArray[np.float64], counts: npt.NDArray[np.int64], score: float, total: int
) -> int:
    """The count at the grid point at or below ``score`` (never understated); ``total`` below
    the grid."""
    i = int(np.searchsorted(grid, score, side="right")) - 1
    return total if i < 0 else int(counts[i])


def grid_dict(grid: npt.NDArray[np.float64]) -> dict[str, Any]:
    """An evenly spaced grid stored as ``grid_start``, ``grid_stop`` and ``grid_points``."""
    return {"grid_start": float(grid[0]), "grid_stop": float(grid[-1]), "grid_points": len(grid)}


def grid_of(data: dict[str, Any]) -> npt.NDArray[np.float64]:
    """The grid that :func:`grid_dict` stored."""
    return np.linspace(
        float(data["grid_start"]), float(data["grid_stop"]), int(data["grid_points"])
    )


def wilson_interval(errors: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``errors / trials``.

    Unlike the normal approximation it stays inside ``[0, 1]`` and gives a
    useful upper bound when no error was observed (``errors == 0``).
    """
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= errors <= trials:
        raise ValueError(f"errors {errors} outside 0..{trials}")
    p = errors / trials
    z2 = z * z
    denom = 1.0 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    low = 0.0 if errors == 0 else max(0.0, centre - half)
    high = 1.0 if errors == trials else min(1.0, centre + half)
    return low, high
