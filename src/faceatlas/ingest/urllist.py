"""A text or CSV file of image (or video) URLs as a :class:`Source`.

* ``.txt``: one image URL per line, optionally followed by whitespace and the
  URL of the page it came from. Blank lines and ``#`` comments are ignored.
* ``.csv``: a header row with ``image_url`` (or ``url``) and optionally
  ``page_url``, ``page_title``, ``alt_text``, ``caption``.

Every fetch goes through :class:`Politeness` (robots.txt, crawl-delay, per-host
limits) and the safe :class:`Fetcher` (SSRF guard, size cap, sniffing).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

from faceatlas.errors import InvalidRequestError
from faceatlas.ingest.fetch import Expect
from faceatlas.ingest.polite import Politeness
from faceatlas.ingest.source import ItemContent, SourceItem, existing_path
from faceatlas.types import is_web_url

__all__ = ["UrlListSource"]

_URL_COLUMNS = ("image_url", "url")


class UrlListSource:
    """Image URLs listed in a file, fetched politely and safely."""

    kind = "url_list"

    def __init__(self, path: Path, politeness: Politeness) -> None:
        self.path = existing_path(path, "URL list")
        self.politeness = politeness
        self._text = self.path.read_text(encoding="utf-8", errors="replace")
        self._items = self._parse()

    @property
    def locator(self) -> str:
        return str(self.path)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self._text.encode("utf-8")).hexdigest()

    def _parse(self) -> list[SourceItem]:
        if self.path.suffix.lower() == ".csv":
            return self._parse_csv()
        items: list[SourceItem] = []
        for n, line in enumerate(self._text.splitlines(), start=1):
            bits = line.split("#", 1)[0].split() if not line.lstrip().startswith("#") else []
            if not bits:
                continue
            if len(bits) > 2:
                raise InvalidRequestError(f"{self.path}:{n}: expected 'IMAGE_URL [PAGE_URL]'")
            _require_http(bits[0], n)
            if len(bits) > 1:
                _require_http(bits[1], n)
            items.append(SourceItem(locator=bits[0], page_url=bits[1] if len(bits) > 1 else ""))
        return items

    def _parse_csv(self) -> list[SourceItem]:
        reader = csv.DictReader(io.StringIO(self._text))
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        column = next((c for c in _URL_COLUMNS if c in fields), None)
        if column is None:
            raise InvalidRequestError(f"{self.path}: the CSV needs an 'image_url' column")
        items: list[SourceItem] = []
        for n, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            url = row.get(column, "")
            if not url:
                continue
            _require_http(url, n)
            if row.get("page_url"):
                _require_http(row["page_url"], n)
            items.append(
                SourceItem(
                    locator=url,
                    page_url=row.get("page_url", ""),
                    page_title=row.get("page_title") or None,
                    alt_text=row.get("alt_text") or None,
                    caption=row.get("caption") or None,
                )
            )
        return items

    def count_hint(self) -> int | None:
        return len(self._items)

    def items(self) -> Iterator[SourceItem]:
        yield from self._items

    def fetch(self, item: SourceItem) -> ItemContent:
        fetched = self.politeness.get(item.locator, expect=Expect.MEDIA)
        return ItemContent(fetched.body, fetched.last_modified)

    def read(self, item: SourceItem) -> bytes:
        return self.fetch(item).data


def _require_http(url: str, line: int) -> None:
    if not is_web_url(url):
        raise InvalidRequestError(f"line {line}: not an http(s) URL: {url[:200]!r}")
