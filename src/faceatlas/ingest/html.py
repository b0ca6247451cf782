"""What a web page says about its images: ``<img>`` (src, srcset, alt), ``og:image``,
the page title, the caption near each image, and the links to follow.

Only the standard library's tolerant HTML tokenizer is used; no script runs and no
form is ever looked at, let alone submitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from faceatlas.types import record

__all__ = ["PageImage", "PageInfo", "parse_page"]

_TEXT_LIMIT = 500
_CAPTION_MAX = 300
"""Enclosing text longer than this is page body, not a caption."""
_BLOCKS = frozenset({"p", "div", "li", "td", "section", "article", "span", "a"})
_SKIP_TEXT = frozenset({"script", "style", "noscript", "template", "textarea", "form"})


@record
class PageImage:
    """One image a page shows; ``url`` is absolute, without fragment."""

    url: str
    alt: str | None = None
    caption: str | None = None


@dataclass(slots=True)
class PageInfo:
    url: str
    title: str | None = None
    images: list[PageImage] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Open:
    tag: str
    images: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    caption: str | None = None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    joined = " ".join(text.split())
    return joined[:_TEXT_LIMIT] or None


def _absolute(base: str, ref: str) -> str | None:
    ref = ref.strip()
    if not ref or ref.startswith(("data:", "javascript:", "mailto:", "tel:")):
        return None
    url, _fragment = urldefrag(urljoin(base, ref))
    return url if urlsplit(url).scheme in ("http", "https") else None


def _largest_srcset(srcset: str) -> str | None:
    """The candidate with the largest width (``w``) or density (``x``) descriptor."""
    best: tuple[float, str] | None = None
    for part in srcset.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        size = 1.0
        if len(bits) > 1 and bits[1][:-1].replace(".", "", 1).isdigit():
            size = float(bits[1][:-1])
        if best is None or size > best[0]:
            best = (size, bits[0])
    return None if best is None else best[1]


class _PageParser(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageInfo(url=url)
        self.base = url
        self.stack: list[_Open] = []
        self.in_title = False
        self.title_parts: list[str] = []
        self.skip_depth = 0
        self.captions: dict[int, str] = {}
        self.seen_links: set[str] = set()
        self.og_images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag in _SKIP_TEXT:
            self.skip_depth += 1
        if tag == "title":
            self.in_title = True
        elif tag == "base" and a.get("href"):
            self.base = _absolute(self.page.url, a["href"]) or self.base
        elif tag == "meta":
            prop = (a.get("property") or a.get("name") or "").lower()
            if prop in ("og:image", "og:image:url", "og:image:secure_url") and a.get("content"):
                url = _absolute(self.base, a["content"])
                if url:
                    self.og_images.append(url)
        elif tag == "a" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            url = _absolute(self.base, a["href"])
            if url and "nofollow" not in rel and url not in self.seen_links:
                self.seen_links.add(url)
                self.page.links.append(url)
        elif tag == "img":
            self._image(a)
            return  # void element: never pushed
        if tag in _BLOCKS or tag in ("figure", "figcaption"):
            self.stack.append(_Open(tag))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self._image({k.lower(): (v or "") for k, v in attrs})
        elif tag in ("meta", "base", "a"):
            self.handle_starttag(tag, attrs)
            if tag == "a" and self.stack and self.stack[-1].tag == "a":
                self.stack.pop()

    def _image(self, a: dict[str, str]) -> None:
        ref = a.get("src") or a.get("data-src") or ""
        if a.get("srcset"):
            ref = _largest_srcset(a["srcset"]) or ref
        url = _absolute(self.base, ref)
        if url is None:
            return
        self.page.images.append(PageImage(url=url, alt=_clean(a.get("alt")), caption=None))
        position = len(self.page.images) - 1
        if a.get("title"):
            self.captions[position] = a["title"]
        for opened in self.stack:
            opened.images.append(position)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TEXT and self.skip_depth:
            self.skip_depth -= 1
        if tag == "title":
            self.in_title = False
            return
        if not any(o.tag == tag for o in self.stack):
            return
        while self.stack:
            opened = self.stack.pop()
            self._close(opened)
            if opened.tag == tag:
                break

    def _close(self, opened: _Open) -> None:
        text = " ".join(" ".join(opened.text).split())
        if opened.tag == "figcaption":
            for outer in reversed(self.stack):
                if outer.tag == "figure":
                    outer.caption = text or None
                    break
        elif opened.tag == "figure" and opened.caption:
            for position in opened.images:
                self.captions[position] = opened.caption
        elif text and len(text) <= _CAPTION_MAX:
            # no figcaption: the text of the nearest short enclosing block
            for position in opened.images:
                self.captions.setdefault(position, text)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.skip_depth:
            return
        for opened in self.stack:
            opened.text.append(data)

    def finish(self) -> PageInfo:
        while self.stack:
            self._close(self.stack.pop())
        page = self.page
        page.title = _clean("".join(self.title_parts))
        images: list[PageImage] = []
        seen: set[str] = set()
        for position, image in enumerate(page.images):
            if image.url in seen:
                continue
            seen.add(image.url)
            images.append(PageImage(image.url, image.alt, _clean(self.captions.get(position))))
        for url in self.og_images:
            if url not in seen:
                seen.add(url)
                images.append(PageImage(url=url, alt=None, caption=None))
        page.images = images
        return page


def parse_page(html: str, url: str) -> PageInfo:
    """Title, images (first occurrence wins, ``og:image`` last) and links of a page."""
    parser = _PageParser(url)
    parser.feed(html)
    parser.close()
    return parser.finish()


def decode_html(body: bytes, content_type: str = "") -> str:
    """Decode a page body using the charset from ``Content-Type``, else UTF-8 leniently."""
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip("\"' ")
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
