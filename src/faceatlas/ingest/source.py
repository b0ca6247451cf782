"""What an ingester reads from: a :class:`Source` yields items with provenance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Source", "SourceItem"]


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One image to ingest, and where it was seen.

    ``locator`` is the absolute file path or the image URL. File sources set
    ``file_size`` and ``file_mtime_ns`` so an unchanged file is skipped
    without reading it again.
    """

    locator: str
    page_url: str = ""
    page_title: str | None = None
    alt_text: str | None = None
    caption: str | None = None
    http_last_modified: str | None = None
    file_size: int | None = None
    file_mtime_ns: int | None = None


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
