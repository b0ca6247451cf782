"""WARC and WARC.gz files (the Common Crawl format) as a :class:`Source`.

A first pass reads every ``response`` (and ``resource``) record once: HTML
pages are parsed for their images (``<img>`` src/srcset/alt, ``og:image``),
title and captions; image (and video) records are remembered by offset. Items
are then the archived images and videos in file order, one per page that shows the image (or one
with no page when no archived page shows it), so each page becomes its own
sighting. Image bytes are read back by seeking to the record's offset, which
works for per-record gzip members as Common Crawl writes them. Images a page
shows but the archive does not hold are listed by :meth:`WarcSource.missing_images`;
they are never fetched from here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from faceatlas.errors import ImageTooLargeError, InvalidRequestError, NotFoundError
from faceatlas.ingest.fetch import looks_like_media
from faceatlas.ingest.html import decode_html, parse_page
from faceatlas.ingest.source import SourceItem, existing_path, page_item
from faceatlas.types import record

__all__ = ["WarcSource"]

log = logging.getLogger(__name__)

_MAX_PAGE_BYTES = 5 * 1024 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@record
class _PageRef:
    page_url: str = ""
    page_title: str | None = None
    alt_text: str | None = None
    caption: str | None = None


@record
class _ImageRecord:
    url: str
    offset: int
    last_modified: str | None


def _warc_iter(stream: Any) -> ArchiveIterator:
    return ArchiveIterator(stream, arc2warc=True)


class WarcSource:
    """Images archived in one WARC or WARC.gz file, with the pages that show them."""

    kind = "warc"

    def __init__(self, path: Path, *, max_file_bytes: int) -> None:
        self.path = existing_path(path, "WARC file")
        self.max_file_bytes = max_file_bytes
        self._images: list[_ImageRecord] | None = None
        self._pages: dict[str, list[_PageRef]] = {}
        self._offsets: dict[str, int] = {}
        self.pages_seen = 0

    @property
    def locator(self) -> str:
        return str(self.path)

    @property
    def fingerprint(self) -> str:
        st = self.path.stat()
        return f"{st.st_size}:{st.st_mtime_ns}"

    def _scan(self) -> list[_ImageRecord]:
        if self._images is not None:
            return self._images
        images: list[_ImageRecord] = []
        try:
            with self.path.open("rb") as f:
                it = _warc_iter(f)
                for record in it:
                    found = self._record(record, it)
                    if found is not None and found.url not in self._offsets:
                        self._offsets[found.url] = found.offset
                        images.append(found)
        except OSError as exc:
            raise InvalidRequestError(f"cannot read WARC {self.path}: {exc}") from None
        except Exception as exc:  # warcio raises plain exceptions on malformed archives
            raise InvalidRequestError(f"malformed WARC {self.path}: {exc}") from None
        self._images = images
        log.info("WARC %s: %d pages, %d archived images", self.path, self.pages_seen, len(images))
        return images

    def _record(self, record: Any, it: ArchiveIterator) -> _ImageRecord | None:
        if record.rec_type not in ("response", "resource"):
            return None
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        last_modified = None
        if record.rec_type == "response" and record.http_headers is not None:
            status = record.http_headers.get_statuscode() or ""
            if not status.startswith("2"):
                return None
            ctype = record.http_headers.get_header("Content-Type") or ""
            last_modified = record.http_headers.get_header("Last-Modified")
        else:
            ctype = record.rec_headers.get_header("Content-Type") or ""
        ctype_main = ctype.split(";", 1)[0].strip().lower()
        if ctype_main in _HTML_TYPES:
            body = record.content_stream().read(_MAX_PAGE_BYTES)
            self._page(url, decode_html(body, ctype))
            return None
        media = ctype_main.startswith(("image/", "video/"))
        if media or looks_like_media(record.content_stream().read(16)):
            # the offset is known only once the record is read (warcio reads it to its end)
            offset = int(it.get_record_offset())
            return _ImageRecord(url=url, offset=offset, last_modified=last_modified)
        return None

    def _page(self, url: str, html: str) -> None:
        self.pages_seen += 1
        info = parse_page(html, url)
        for image in info.images:
            refs = self._pages.setdefault(image.url, [])
            if all(r.page_url != url for r in refs):
                refs.append(_PageRef(url, info.title, image.alt, image.caption))

    def missing_images(self) -> list[str]:
        """Image URLs shown by archived pages but not archived themselves."""
        self._scan()
        return sorted(set(self._pages) - set(self._offsets))

    def count_hint(self) -> int | None:
        return sum(max(1, len(self._pages.get(i.url, ()))) for i in self._scan())

    def items(self) -> Iterator[SourceItem]:
        for image in self._scan():
            for ref in self._pages.get(image.url) or [_PageRef()]:
                yield page_item(image.url, ref, http_last_modified=image.last_modified)

    def read(self, item: SourceItem) -> bytes:
        offset = self._offsets.get(item.locator)
        if offset is None:
            raise NotFoundError(f"{item.locator} is not archived in {self.path}")
        with self.path.open("rb") as f:
            f.seek(offset)
            record = next(iter(_warc_iter(f)))
            data: bytes = record.content_stream().read(self.max_file_bytes + 1)
        if len(data) > self.max_file_bytes:
            raise ImageTooLargeError(f"record is over the {self.max_file_bytes}-byte limit")
        return data


def is_warc(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".warc", ".warc.gz", ".arc", ".arc.gz")) and os.path.isfile(path)
