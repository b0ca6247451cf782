"""Error rates with their evidence: count, comparisons and a Wilson score interval."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Rate", "rate", "wilson_interval"]

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile."""


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


@dataclass(frozen=True, slots=True)
class Rate:
    """``errors`` out of ``trials``, with a 95% Wilson interval."""

    errors: int
    trials: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.errors / self.trials if self.trials else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": None if not self.trials else float(f"{self.value:.6g}"),
            "errors": self.errors,
            "comparisons": self.trials,
            "ci95": [float(f"{self.low:.6g}"), float(f"{self.high:.6g}")],
        }

    def __str__(self) -> str:
        if not self.trials:
            return "n/a (0 comparisons)"
        return f"{self.value:.3g} [{self.low:.2g}, {self.high:.2g}] ({self.errors}/{self.trials:,})"


def rate(errors: int, trials: int) -> Rate:
    low, high = wilson_interval(errors, trials)
    return Rate(int(errors), int(trials), low, high)
