"""Stage timing: how long each named stage of one piece of work took, in seconds.

Code on a path that a caller may want timed takes an optional :class:`StageTimer` and wraps
each stage in :meth:`StageTimer.stage`; the caller reads :attr:`StageTimer.seconds` afterwards
(the service turns a search's stages into the metrics of ``docs/operations.md``). A timer
is one piece of work's own object, never shared state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["StageTimer"]


class StageTimer:
    """Seconds spent per stage; a stage entered twice adds up."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` (also when it raises)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[name] = self._seconds.get(name, 0.0) + time.perf_counter() - started

    @property
    def seconds(self) -> Mapping[str, float]:
        """Seconds per stage, in the order the stages were first entered."""
        return dict(self._seconds)
