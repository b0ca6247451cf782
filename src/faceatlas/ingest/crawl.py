"""A polite, allowlisted crawler as a :class:`Source`.

Rules of conduct (see ``docs/ingestion.md``):

* it refuses to start without an allowlist, and never requests a URL whose host
  is not on it (links, images, redirect hops alike);
* it only ever sends ``GET`` requests for pages and images: it never submits a
  form, never sends credentials or cookies, never runs scripts;
* every request obeys robots.txt for its User-Agent, including ``Crawl-delay``,
  with at most ``per_host`` requests in flight per host (see :class:`Politeness`);
* it stops at ``max_depth`` links from a seed and ``max_pages`` pages;
* its frontier lives in the catalog, so a stopped crawl resumes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from faceatlas.errors import FaceAtlasError, InvalidRequestError, OffAllowlistError
from faceatlas.ingest.fetch import Expect
from faceatlas.ingest.html import PageInfo, decode_html, parse_page
from faceatlas.ingest.polite import Politeness
from faceatlas.ingest.source import ItemContent, SourceItem, page_item
from faceatlas.store.frontier import Frontier, FrontierImage, FrontierPage
from faceatlas.types import record

__all__ = ["CrawlOptions", "CrawlSource", "crawl_locator"]

log = logging.getLogger(__name__)


@record
class CrawlOptions:
    seeds: tuple[str, ...]
    allow_domains: tuple[str, ...]
    max_depth: int = 2
    max_pages: int = 100
    page_threads: int = 4

    def __post_init__(self) -> None:
        if not self.allow_domains:
            raise InvalidRequestError("refusing to crawl without an allowlist (--allow-domain)")
        if not self.seeds:
            raise InvalidRequestError("a crawl needs at least one --seed URL")
        if self.max_depth < 0 or self.max_pages < 1 or self.page_threads < 1:
            raise InvalidRequestError("max depth >= 0, max pages >= 1 and page threads >= 1")
        for domain in self.allow_domains:
            if not domain.strip(". ") or "/" in domain or ":" in domain.strip("[]"):
                raise InvalidRequestError(f"--allow-domain takes a host name, not {domain!r}")
        for seed in self.seeds:
            if not allowed(seed, self.allow_domains):
                raise InvalidRequestError(f"seed {seed} is not on the allowlist")


def allowed(url: str, domains: Sequence[str]) -> bool:
    """True when ``url`` is http(s) and its host is an allowlisted domain or a subdomain of one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return False
    for domain in domains:
        d = domain.strip().lower().strip(".")
        if host == d or host.endswith("." + d):
            return True
    return False


def crawl_locator(options: CrawlOptions) -> str:
    """The stable identity of a crawl: its seeds and allowlist."""
    return "crawl:" + json.dumps(
        {"seeds": sorted(options.seeds), "allow": sorted(d.lower() for d in options.allow_domains)},
        sort_keys=True,
    )


class CrawlSource:
    """Pages reachable from the seeds within the allowlist, and the images they show."""

    kind = "crawl"

    def __init__(self, options: CrawlOptions, politeness: Politeness, frontier: Frontier) -> None:
        self.options = options
        self.politeness = politeness
        self.frontier = frontier

    @property
    def locator(self) -> str:
        return crawl_locator(self.options)

    def count_hint(self) -> int | None:
        return None

    def _guard(self, url: str) -> None:
        if not allowed(url, self.options.allow_domains):
            raise OffAllowlistError(f"{url} is not on the allowlist")

    def items(self) -> Iterator[SourceItem]:
        self.frontier.seed(self.options.seeds)
        for image in self.frontier.pending_images():  # queued before a stop: resume them first
            yield page_item(image.url, image)
        batch = self.options.page_threads * 2
        with ThreadPoolExecutor(self.options.page_threads, thread_name_prefix="crawl") as pool:
            while True:
                budget = self.options.max_pages - self.frontier.pages_visited()
                pages = self.frontier.pending_pages(min(budget, batch)) if budget > 0 else []
                if not pages:
                    return
                visits = [(page, pool.submit(self._visit, page)) for page in pages]
                for page, visit in visits:
                    outcome, info = visit.result()
                    for image in self._record(page, outcome, info):
                        yield page_item(image.url, image)

    def _visit(self, page: FrontierPage) -> tuple[str, PageInfo | None]:
        try:
            fetched = self.politeness.get(page.url, expect=Expect.HTML, guard=self._guard)
        except FaceAtlasError as exc:
            log.info("page %s not crawled: %s", page.url, exc.code)
            return exc.code, None
        html = decode_html(fetched.body, fetched.content_type)
        return "ok", parse_page(html, fetched.url)

    def _record(
        self, page: FrontierPage, outcome: str, info: PageInfo | None
    ) -> list[FrontierImage]:
        links: list[str] = []
        images: list[FrontierImage] = []
        skipped: list[FrontierImage] = []
        if info is not None:
            if page.depth < self.options.max_depth:
                links = [link for link in info.links if allowed(link, self.options.allow_domains)]
            for image in info.images:
                entry = FrontierImage(image.url, page.url, info.title, image.alt, image.caption)
                (images if allowed(image.url, self.options.allow_domains) else skipped).append(
                    entry
                )
        return self.frontier.finish_page(page, outcome, links, images, skipped)

    def fetch(self, item: SourceItem) -> ItemContent:
        fetched = self.politeness.get(item.locator, expect=Expect.IMAGE, guard=self._guard)
        return ItemContent(fetched.body, fetched.last_modified)

    def read(self, item: SourceItem) -> bytes:
        return self.fetch(item).data

    def committed(self, items: Sequence[SourceItem]) -> None:
        self.frontier.images_done([(item.locator, item.page_url) for item in items])
