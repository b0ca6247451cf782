"""Wrong passwords slow down whoever sends them, not the account's owner.

Failures are counted per account *and* client address. The first :data:`FREE_FAILURES` cost
nothing; after that each further failure makes that pair wait twice as long as the last
(1 s, 2 s, 4 s, ... up to :data:`MAX_DELAY_S`) before the next attempt is even checked. A
correct password clears the pair's count. Someone guessing from one address is slowed to a
crawl; the account's owner, signing in from their own address, is not locked out by it. An
administrator can clear every count of an account (``unlock``). Counts live in the serving
process, like the search rate limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from faceatlas.errors import RateLimitedError

__all__ = ["FREE_FAILURES", "MAX_DELAY_S", "LoginThrottle"]

FREE_FAILURES = 5
MAX_DELAY_S = 15 * 60.0
FORGET_AFTER_S = 24 * 3600.0
"""A pair's count is forgotten after a day without failures."""


@dataclass(slots=True)
class _Pair:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._lock = threading.Lock()

    def check(self, username: str, client: str) -> None:
        """Raise :class:`RateLimitedError` while this pair must wait; otherwise return."""
        now = self._clock()
        with self._lock:
            pair = self._pairs.get(_key(username, client))
            if pair is None:
                return
            if now - pair.last_failure > FORGET_AFTER_S:
                del self._pairs[_key(username, client)]
                return
            if now < pair.blocked_until:
                wait = max(1, math.ceil(pair.blocked_until - now))
                raise RateLimitedError(
                    f"too many wrong passwords for this account from your address: try again in "
                    f"{wait} s, or ask an administrator to unlock the account",
                    retry_after_s=wait,
                )

    def failed(self, username: str, client: str) -> None:
        now = self._clock()
        with self._lock:
            pair = self._pairs.setdefault(_key(username, client), _Pair())
            pair.failures += 1
            pair.last_failure = now
            over = pair.failures - FREE_FAILURES
            if over > 0:
                pair.blocked_until = now + min(MAX_DELAY_S, 2.0 ** (over - 1))

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._pairs.pop(_key(username, client), None)

    def unlock(self, username: str) -> int:
        """Clear every count of ``username``; returns how many addresses were waiting."""
        name = username.strip().lower()
        with self._lock:
            keys = [k for k in self._pairs if k[0] == name]
            for k in keys:
                del self._pairs[k]
        return len(keys)


def _key(username: str, client: str) -> tuple[str, str]:
    return username.strip().lower(), client
