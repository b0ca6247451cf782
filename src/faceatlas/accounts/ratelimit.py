"""Per-user sliding-window rate limit for searches (in the serving process)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from faceatlas.errors import RateLimitedError

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``limit`` events per ``window_s`` seconds for each key."""

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        what: str = "search",
    ) -> None:
        self.limit = limit
        self.what = what
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one event for ``key``; raises :class:`RateLimitedError` over the limit."""
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                retry = max(1, math.ceil(events[0] + self.window_s - now))
                raise RateLimitedError(
                    f"{self.what} limit of {self.limit} per {self.window_s:.0f} s reached; "
                    f"retry in {retry} s",
                    retry_after_s=retry,
                )
            events.append(now)
