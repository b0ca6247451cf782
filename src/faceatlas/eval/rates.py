"""Error rates with their evidence: count, comparisons and a Wilson score interval."""

from __future__ import annotations

from typing import Any

from faceatlas.search.fmr import Z95, wilson_interval
from faceatlas.types import record

__all__ = ["Z95", "Rate", "rate", "wilson_interval"]


@record
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
