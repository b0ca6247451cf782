"""Building sources from settings: which source a path is, and the web session they share."""

from __future__ import annotations

from pathlib import Path

from faceatlas.choices import SourceKind
from faceatlas.config import Settings
from faceatlas.errors import InvalidRequestError
from faceatlas.ingest.fetch import Fetcher, FetchPolicy, UrlGuard
from faceatlas.ingest.folder import FolderSource
from faceatlas.ingest.polite import Politeness
from faceatlas.ingest.source import Source
from faceatlas.ingest.urllist import UrlListSource
from faceatlas.ingest.warc import WarcSource
from faceatlas.types import Closing

__all__ = ["SourceKind", "WebSession", "fetch_policy", "open_path_source"]

_WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_LIST_SUFFIXES = (".txt", ".csv")


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        user_agent=settings.user_agent,
        timeout_s=settings.fetch_timeout_s,
        deadline_s=settings.fetch_deadline_s,
        max_bytes=settings.max_file_bytes,
        max_redirects=settings.fetch_max_redirects,
        retries=settings.fetch_retries,
        backoff_s=settings.fetch_backoff_s,
        allow_networks=tuple(settings.fetch_allow_networks),
    )


class WebSession(Closing):
    """One connection pool and one set of per-host manners for a run; close when done.

    ``refuse`` vets every URL before it is requested (the taken-down domains).
    """

    def __init__(self, settings: Settings, *, refuse: UrlGuard | None = None) -> None:
        self.fetcher = Fetcher(fetch_policy(settings), max_connections=settings.fetch_threads * 2)
        self.politeness = Politeness(
            self.fetcher,
            per_host=settings.crawl_per_host,
            min_delay_s=settings.crawl_min_delay_s,
            refuse=refuse,
        )

    def close(self) -> None:
        self.fetcher.close()


def resolve_kind(path: Path, kind: SourceKind) -> SourceKind:
    if kind is not SourceKind.AUTO:
        return kind
    name = path.name.lower()
    if path.is_file() and name.endswith(_WARC_SUFFIXES):
        return SourceKind.WARC
    if path.is_file() and name.endswith(_LIST_SUFFIXES):
        return SourceKind.URLS
    return SourceKind.FOLDER


def open_path_source(
    path: Path, kind: SourceKind, settings: Settings, session: WebSession | None
) -> Source:
    """The source for ``path``: a folder or image file, a WARC, or a URL list."""
    kind = resolve_kind(path, kind)
    if kind is SourceKind.WARC:
        return WarcSource(path, max_file_bytes=settings.max_file_bytes)
    if kind is SourceKind.URLS:
        if session is None:
            raise InvalidRequestError("a URL list needs a web session")
        return UrlListSource(path, session.politeness)
    return FolderSource(path, max_file_bytes=settings.max_file_bytes)
