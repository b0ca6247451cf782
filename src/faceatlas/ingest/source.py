"""What an ingester reads from: a :class:`Source` yields items with provenance."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from faceatlas.errors import NotFoundError
from faceatlas.store.writer import Provenance
from faceatlas.types import record

__all__ = [
    "CommitAwareSource",
    "FetchingSource",
    "ItemContent",
    "PageRef",
    "ResumableSource",
    "Source",
    "SourceItem",
    "existing_path",
    "page_item",
]


@record
class SourceItem(Provenance):
    """One image to ingest, and where it was seen (its :class:`Provenance`). File sources set
    ``file_size`` and ``file_mtime_ns``."""


class PageRef(Protocol):
    """A page that shows an image: its URL and title, the image's alt text and caption there."""

    @property
    def page_url(self) -> str: ...

    @property
    def page_title(self) -> str | None: ...

    @property
    def alt_text(self) -> str | None: ...

    @property
    def caption(self) -> str | None: ...


def page_item(locator: str, ref: PageRef, *, http_last_modified: str | None = None) -> SourceItem:
    """The item for the image at ``locator`` as the page of ``ref`` shows it."""
    return SourceItem(
        locator=locator,
        page_url=ref.page_url,
        page_title=ref.page_title,
        alt_text=ref.alt_text,
        caption=ref.caption,
        http_last_modified=http_last_modified,
    )


def existing_path(path: Path, what: str, *, file_only: bool = True) -> Path:
    """``path`` made absolute for a local source; :class:`NotFoundError` ("no such ``what``")
    when it is missing, or with ``file_only`` when it is not a file."""
    path = path.expanduser().resolve()
    if not (path.is_file() if file_only else path.exists()):
        raise NotFoundError(f"no such {what}: {path}")
    return path


@runtime_checkable
class Source(Protocol):
    @property
    def kind(self) -> str:
        """Short name of the source type (``folder``, ``url_list``, ``warc``, ``crawl``)."""
        ...

    @property
    def locator(self) -> str:
        """Stable identity of this source (a folder path, a file, a seed URL)."""
        ...

    def items(self) -> Iterator[SourceItem]:
        """Every item, in a stable order."""
        ...

    def read(self, item: SourceItem) -> bytes:
        """The item's bytes; raises a :class:`~faceatlas.errors.FaceAtlasError` on failure."""
        ...

    def count_hint(self) -> int | None:
        """Number of items if cheaply known, for progress display."""
        ...


@record
class ItemContent:
    """An item's bytes with what the fetch learned (``Last-Modified`` of the response)."""

    data: bytes
    http_last_modified: str | None = None


@runtime_checkable
class FetchingSource(Source, Protocol):
    """A source whose reads learn provenance (web sources): the pipeline calls :meth:`fetch`."""

    def fetch(self, item: SourceItem) -> ItemContent:
        """Like :meth:`Source.read`, with response metadata."""
        ...


@runtime_checkable
class ResumableSource(Source, Protocol):
    """A source with a stable item order: a rerun skips the items already committed."""

    @property
    def fingerprint(self) -> str:
        """Changes whenever the items would change (file size and mtime, content hash)."""
        ...


@runtime_checkable
class CommitAwareSource(Source, Protocol):
    """A source told which items are durably stored (the crawler's frontier)."""

    def committed(self, items: Sequence[SourceItem]) -> None:
        """Called after the catalog transaction holding ``items`` has committed."""
        ...
