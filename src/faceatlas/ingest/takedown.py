"""Taken-down domains as ingestion sees them: never fetched, never decoded, never stored.

A domain takedown (``faceatlas erase domain``, ``POST /api/v1/privacy/takedowns``)
erases what the atlas holds from the domain and records it in the catalog.
:class:`TakedownList` is how every web source path refuses it afterwards: the
pipeline refuses an item whose image URL or page URL is on a taken-down domain
(or a subdomain of one) before reading it, and :class:`Politeness` refuses every
request to one (pages, images, redirect hops, robots.txt). The list is read when
a run starts and again before each batch is written, so a takedown made while a
long run is going holds from that run's next batch.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from faceatlas.errors import InvalidRequestError, TakenDownError
from faceatlas.ingest.source import SourceItem

__all__ = ["TakedownList", "host_matches", "normalize_domain"]

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def normalize_domain(domain: str) -> str:
    """Lower-case host name without scheme, port or trailing dot; raises when malformed."""
    value = domain.strip().lower().rstrip(".")
    if value.startswith("*."):
        value = value[2:]
    if not _DOMAIN.match(value):
        raise InvalidRequestError(f"not a domain name: {domain!r}")
    return value


def _host(url: str) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def host_matches(url: str, domain: str) -> bool:
    """True when ``url``'s host is ``domain`` or one of its subdomains."""
    host = _host(url)
    return bool(host) and (host == domain or host.endswith("." + domain))


class TakedownList:
    """The taken-down domains, reloaded on :meth:`refresh` (thread-safe).

    ``load`` returns the normalized domain names (the catalog's ``takedown_domains``).
    """

    def __init__(self, load: Callable[[], Iterable[str]]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._domains: frozenset[str] = frozenset()
        self._initial: frozenset[str] | None = None

    def refresh(self) -> None:
        """Read the list again; the first call fixes what counts as known at the start."""
        domains = frozenset(self._load())
        with self._lock:
            self._domains = domains
            if self._initial is None:
                self._initial = domains

    @property
    def domains(self) -> frozenset[str]:
        with self._lock:
            return self._domains

    @property
    def added(self) -> frozenset[str]:
        """Domains taken down since the first :meth:`refresh` (during a run)."""
        with self._lock:
            return self._domains - (self._initial or frozenset())

    def domain_of(self, url: str) -> str | None:
        """The taken-down domain ``url``'s host falls under, if any."""
        domains = self.domains
        host = _host(url).lower()
        if not domains or not host:
            return None
        labels = host.split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in domains:
                return candidate
        return None

    def check(self, url: str) -> None:
        """Raise :class:`TakenDownError` when ``url`` is on a taken-down domain (a URL guard)."""
        domain = self.domain_of(url)
        if domain is not None:
            raise TakenDownError(f"{url} is on the taken-down domain {domain}")

    def check_item(self, item: SourceItem) -> None:
        """Refuse an item whose image URL or page URL is on a taken-down domain."""
        for url in (item.locator, item.page_url):
            if url.lower().startswith(("http://", "https://")):
                self.check(url)
