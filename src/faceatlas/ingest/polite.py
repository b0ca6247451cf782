"""Good manners for every web request: robots.txt, crawl-delay and per-host concurrency.

:class:`Politeness` wraps a :class:`Fetcher`. Before a URL is requested (and on
every redirect hop) the host's robots.txt is consulted for our User-Agent; at
most ``per_host`` requests run against one host at a time, and successive
requests to a host are spaced by the larger of ``min_delay_s`` and the host's
``Crawl-delay``. robots.txt follows RFC 9309: a 4xx answer means no rules, a
5xx answer or an unreachable server means nothing may be fetched.
``refuse`` vets every URL before anything else, robots.txt included (the
taken-down domains of :class:`~faceatlas.ingest.takedown.TakedownList`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from faceatlas.errors import (
    BlockedAddressError,
    FetchError,
    HttpStatusError,
    RobotsDisallowedError,
)
from faceatlas.ingest.fetch import Expect, Fetched, Fetcher, UrlGuard

__all__ = ["Politeness"]

log = logging.getLogger(__name__)

_ROBOTS_MAX_BYTES = 512 * 1024


@dataclass(slots=True)
class _Host:
    slots: threading.Semaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    robots: RobotFileParser | None = None
    blocked: str | None = None
    """Why the host itself is refused (the SSRF guard), so no request goes there."""
    next_at: float = 0.0


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Politeness:
    """robots.txt, delays and per-host limits around one :class:`Fetcher` (thread-safe)."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        per_host: int,
        min_delay_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        refuse: UrlGuard | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.refuse = refuse
        self.user_agent = fetcher.policy.user_agent
        self.per_host = per_host
        self.min_delay_s = min_delay_s
        self.clock = clock
        self.sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, origin: str) -> _Host:
        with self._lock:
            host = self._hosts.get(origin)
            if host is None:
                host = _Host(slots=threading.Semaphore(self.per_host))
                self._hosts[origin] = host
            return host

    def robots(self, url: str, guard: UrlGuard | None = None) -> RobotFileParser:
        """The parsed robots.txt of ``url``'s origin, fetched once (politely) per origin;
        ``guard`` vets its URL and any redirect of it (the crawler's allowlist)."""
        origin = _origin(url)
        host = self._host(origin)
        with host.lock:
            if host.robots is None:
                host.robots = self._load_robots(origin, host, guard)
            return host.robots

    def _load_robots(self, origin: str, host: _Host, guard: UrlGuard | None) -> RobotFileParser:
        parser = RobotFileParser(origin + "/robots.txt")
        lines: list[str] = []
        try:
            with self._slot(host, None):
                fetched = self.fetcher.get(
                    origin + "/robots.txt",
                    expect=Expect.TEXT,
                    guard=self._guarded(guard),
                    max_bytes=_ROBOTS_MAX_BYTES,
                )
            lines = fetched.body.decode("utf-8", errors="replace").splitlines()
        except HttpStatusError as exc:
            if exc.status >= 500 or exc.status == 0:
                lines = ["User-agent: *", "Disallow: /"]
                log.warning("robots.txt of %s answered %d: fetching nothing", origin, exc.status)
        except BlockedAddressError as exc:
            host.blocked = exc.message
            lines = ["User-agent: *", "Disallow: /"]
        except FetchError as exc:
            lines = ["User-agent: *", "Disallow: /"]
            log.warning(
                "robots.txt of %s unavailable (%s): fetching nothing there", origin, exc.code
            )
        parser.parse(lines)
        return parser

    def _guarded(self, guard: UrlGuard | None) -> UrlGuard | None:
        """``guard`` preceded by :attr:`refuse`."""
        refuse = self.refuse
        if refuse is None:
            return guard

        def both(url: str) -> None:
            refuse(url)
            if guard is not None:
                guard(url)

        return both

    def check(self, url: str, guard: UrlGuard | None = None) -> None:
        """Raise :class:`RobotsDisallowedError` when robots.txt forbids ``url``
        (:class:`BlockedAddressError` when the host is refused by the SSRF guard)."""
        robots = self.robots(url, guard)
        blocked = self._host(_origin(url)).blocked
        if blocked is not None:
            raise BlockedAddressError(blocked)
        if not robots.can_fetch(self.user_agent, url):
            raise RobotsDisallowedError(f"robots.txt disallows {url}")

    def crawl_delay_s(self, url: str) -> float:
        delay = self.robots(url).crawl_delay(self.user_agent)
        return max(self.min_delay_s, float(delay or 0))

    @contextmanager
    def _slot(self, host: _Host, delay_s: float | None) -> Iterator[None]:
        """Hold one of the host's slots, starting no sooner than its delay allows."""
        delay = self.min_delay_s if delay_s is None else delay_s
        with host.slots:
            with self._lock:
                start = max(self.clock(), host.next_at)
                host.next_at = start + delay
            wait = start - self.clock()
            if wait > 0:
                self.sleep(wait)
            yield

    def get(self, url: str, *, expect: Expect, guard: UrlGuard | None = None) -> Fetched:
        """Fetch ``url`` if robots.txt allows it (and every redirect hop), within the host limits."""

        def hop_guard(hop: str) -> None:
            if self.refuse is not None:
                self.refuse(hop)
            if guard is not None:
                guard(hop)
            self.check(hop, guard)

        hop_guard(url)
        host = self._host(_origin(url))
        with self._slot(host, self.crawl_delay_s(url)):
            return self.fetcher.get(url, expect=expect, guard=hop_guard)
